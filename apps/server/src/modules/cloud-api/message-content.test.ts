import { describe, expect, it } from 'vitest';
import { GraphError } from './graph-error.js';
import { bindMedia, encodePayload, isSingleEmoji, parseOutgoing } from './message-content.js';
import { toWamid } from './wamid.js';

const MSG = 'msg_01M87HH2PYYZ2Z36SM1R2QJ1C4';
const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '+15550001111' };
const send = (type: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseOutgoing({ ...base, type, ...content, ...extra });

/** The Graph error a send is refused with: code and the field its details name. */
function refusal(fn: () => unknown): { code: number; details: string } {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof GraphError) return { code: e.code, details: e.extra.details ?? '' };
    throw e;
  }
  throw new Error('expected a GraphError');
}

const long = (n: number, c = 'a') => c.repeat(n);

describe('parseOutgoing: the envelope', () => {
  it('keeps to as sent, and reads context and callback data', () => {
    const out = send(
      'text',
      { text: { body: 'hi' } },
      {
        context: { message_id: toWamid(MSG) },
        biz_opaque_callback_data: 'tracking-1',
        recipient: 'US.123', // whatsapp-api-js sends this: ignored, not refused
      },
    );
    expect(out).toMatchObject({
      type: 'text',
      to: '+15550001111',
      kind: 'message',
      replyTo: MSG,
      callbackData: 'tracking-1',
    });
  });

  it('defaults the type to text, as the Cloud API does', () => {
    expect(parseOutgoing({ messaging_product: 'whatsapp', to: '1555', text: { body: 'x' } }).type).toBe(
      'text',
    );
  });

  it.each([
    [{ ...base, messaging_product: undefined }, 131008, 'messaging_product'],
    [{ ...base, messaging_product: 'sms' }, 131009, 'messaging_product'],
    [{ ...base, recipient_type: 'group' }, 131009, 'recipient_type'],
    [{ ...base, to: undefined }, 131008, 'to'],
    [{ ...base, to: '  ' }, 131008, 'to'],
    [{ ...base, type: 'carousel' }, 131051, 'carousel'],
    [{ ...base, type: 7 }, 131009, 'type'],
    [
      { ...base, text: { body: 'x' }, biz_opaque_callback_data: long(513) },
      131009,
      'biz_opaque_callback_data',
    ],
    [{ ...base, text: { body: 'x' }, context: {} }, 131008, 'context.message_id'],
    [
      { ...base, text: { body: 'x' }, context: { message_id: 'wamid.HBgLMTY1MDM4' } },
      100,
      'context.message_id',
    ],
    [{ ...base, text: { body: 'x' }, context: 'wamid' }, 131009, 'context'],
  ])('refuses %j with %i naming %s', (body, code, field) => {
    const r = refusal(() => parseOutgoing(body as Record<string, unknown>));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });
});

describe('parseOutgoing: text', () => {
  it('stores the body as Parley text, with preview_url beside it', () => {
    const out = send('text', { text: { body: 'Your order shipped', preview_url: true } });
    expect(out.content).toEqual({ type: 'text', text: 'Your order shipped', preview_url: true });
    expect(JSON.parse(Buffer.from(encodePayload(out.content), 'base64').toString())).toEqual(out.content);
  });

  it('takes 4096 characters, counting an emoji as one', () => {
    expect(send('text', { text: { body: `${long(4095)}👍🏽` } }).content?.text).toHaveLength(4095 + 4);
  });

  it.each([
    [{}, 131008, 'text'],
    [{ text: {} }, 131008, 'text.body'],
    [{ text: { body: '' } }, 131008, 'text.body'],
    [{ text: { body: 5 } }, 131009, 'text.body'],
    [{ text: { body: long(4097) } }, 131009, 'text.body'],
    [{ text: { body: 'x', preview_url: 'yes' } }, 131009, 'text.preview_url'],
  ])('refuses %j', (content, code, field) => {
    const r = refusal(() => send('text', content));
    expect(r).toMatchObject({ code });
    expect(r.details).toContain(field);
  });
});

describe('parseOutgoing: media', () => {
  it.each(['image', 'audio', 'video', 'document', 'sticker'] as const)(
    'sends a %s by id or by link',
    (kind) => {
      expect(send(kind, { [kind]: { id: '1234567890' } }).media).toEqual([
        { slot: 'message', kind, source: { id: '1234567890' } },
      ]);
      expect(send(kind, { [kind]: { link: 'https://example.com/x' } }).media).toEqual([
        { slot: 'message', kind, source: { link: 'https://example.com/x' } },
      ]);
    },
  );

  it('keeps the caption (as the readable text too) and a document’s file name', () => {
    const out = send('document', { document: { id: '1', caption: 'Invoice', filename: 'invoice.pdf' } });
    expect(out.content).toEqual({
      type: 'document',
      document: { caption: 'Invoice', filename: 'invoice.pdf' },
      text: 'Invoice',
    });
  });

  it.each([
    ['image', { image: {} }, 131008, 'image.id or image.link'],
    ['image', { image: { id: '1', link: 'https://x.org/a' } }, 100, 'either id or link'],
    ['image', { image: { link: 'ftp://x.org/a' } }, 131009, 'image.link'],
    ['image', { image: { link: 'not a url' } }, 131009, 'image.link'],
    ['video', { video: { id: '1', caption: long(1025) } }, 131009, 'video.caption'],
    ['audio', { audio: { id: '1', caption: 'no' } }, 100, 'caption'],
    ['sticker', { sticker: { id: '1', caption: 'no' } }, 100, 'caption'],
    ['image', { image: { id: '1', filename: 'a.png' } }, 100, 'filename'],
    ['document', { document: { id: '1', filename: '../etc/passwd' } }, 131009, 'document.filename'],
  ])('%s: refuses %j', (kind, content, code, field) => {
    const r = refusal(() => send(kind, content));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });

  it('binds resolved media in place of the Cloud API id or link', () => {
    const out = send('image', { image: { link: 'https://example.com/a.png', caption: 'Look' } });
    const bound = bindMedia(out, [{ mediaId: 'med_1', mimeType: 'image/png', sha256: 'ab', size: 10 }]);
    expect(bound).toEqual({
      content: {
        type: 'image',
        image: { media_id: 'med_1', mime_type: 'image/png', sha256: 'ab', file_size: 10, caption: 'Look' },
        text: 'Look',
      },
      mediaIds: ['med_1'],
    });
    expect(out.content).toEqual({ type: 'image', image: { caption: 'Look' }, text: 'Look' });
    expect(() => bindMedia(out, [])).toThrow();
  });
});

describe('parseOutgoing: location and contacts', () => {
  it('takes coordinates as numbers or numeric strings', () => {
    expect(
      send('location', {
        location: { latitude: '37.758056', longitude: -122.425332, name: 'Cafe', address: '1 Way' },
      }).content,
    ).toEqual({
      type: 'location',
      location: { latitude: 37.758056, longitude: -122.425332, name: 'Cafe', address: '1 Way' },
    });
  });

  it.each([
    [{ location: { longitude: 1 } }, 131008, 'location.latitude'],
    [{ location: { latitude: 91, longitude: 1 } }, 131009, 'location.latitude'],
    [{ location: { latitude: 1, longitude: -180.5 } }, 131009, 'location.longitude'],
    [{ location: { latitude: 'north', longitude: 1 } }, 131009, 'location.latitude'],
  ])('refuses %j', (content, code, field) => {
    const r = refusal(() => send('location', content));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });

  const card = {
    name: { formatted_name: 'Ada Lovelace', first_name: 'Ada', nickname: 'dropped' },
    phones: [{ phone: '+1 650 555 1234', type: 'WORK', wa_id: '16505551234' }],
    emails: [{ email: 'ada@example.com', type: 'WORK' }],
    urls: [{ url: 'https://example.com' }],
    addresses: [{ city: 'London', country_code: 'GB' }],
    org: { company: 'Analytical', title: 'Engineer' },
    birthday: '1815-12-10',
  };

  it('keeps every field the Cloud API defines, and only those', () => {
    const out = send('contacts', { contacts: [card] });
    expect(out.content).toEqual({
      type: 'contacts',
      contacts: [{ ...card, name: { formatted_name: 'Ada Lovelace', first_name: 'Ada' } }],
    });
  });

  it.each([
    [{ contacts: [] }, 131009, 'contacts'],
    [{ contacts: Array(6).fill(card) }, 131009, 'contacts'],
    [{ contacts: [{ phones: [] }] }, 131008, 'contacts[0].name'],
    [{ contacts: [{ name: { first_name: 'A' } }] }, 131008, 'contacts[0].name.formatted_name'],
    [{ contacts: [{ ...card, birthday: '1815-02-30' }] }, 131009, 'contacts[0].birthday'],
    [{ contacts: [{ ...card, phones: [{ type: 'HOME' }] }] }, 131008, 'contacts[0].phones[0].phone'],
    [{ contacts: [{ ...card, emails: [{ email: 'nope' }] }] }, 131009, 'contacts[0].emails[0].email'],
  ])('refuses %j', (content, code, field) => {
    const r = refusal(() => send('contacts', content));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });
});

describe('parseOutgoing: reaction', () => {
  it('is a Parley reaction act on the message, and "" removes it', () => {
    const out = send('reaction', { reaction: { message_id: toWamid(MSG), emoji: '👍🏽' } });
    expect(out).toMatchObject({
      kind: 'reaction',
      ref: MSG,
      content: { type: 'reaction', reaction: { emoji: '👍🏽' }, text: '👍🏽' },
    });
    const removed = send('reaction', { reaction: { message_id: toWamid(MSG), emoji: '' } });
    expect(removed.content).toBeNull();
    expect(encodePayload(removed.content)).toBe('');
  });

  it.each([
    [{ reaction: { emoji: '👍' } }, 131008, 'reaction.message_id'],
    [{ reaction: { message_id: 'wamid.foreign', emoji: '👍' } }, 100, 'reaction.message_id'],
    [{ reaction: { message_id: toWamid(MSG) } }, 131008, 'reaction.emoji'],
    [{ reaction: { message_id: toWamid(MSG), emoji: 'ok' } }, 131009, 'reaction.emoji'],
    [{ reaction: { message_id: toWamid(MSG), emoji: '👍👍' } }, 131009, 'reaction.emoji'],
  ])('refuses %j', (content, code, field) => {
    const r = refusal(() => send('reaction', content));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });

  it('counts flags, families and keycaps as one emoji', () => {
    for (const e of ['🇫🇷', '👨‍👩‍👧', '1️⃣', '❤️']) expect(isSingleEmoji(e)).toBe(true);
    for (const e of ['a', '', '👍 ', '12']) expect(isSingleEmoji(e)).toBe(false);
  });
});

describe('parseOutgoing: interactive', () => {
  const inter = (interactive: Record<string, unknown>) => send('interactive', { interactive });
  const buttons = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ type: 'reply', reply: { id: `b${i}`, title: `Option ${i}` } }));
  const rows = (n: number, prefix = 'r') =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, title: `Row ${i}` }));

  it('reply buttons, with a media header to resolve', () => {
    const out = inter({
      type: 'button',
      header: { type: 'image', image: { id: '42' } },
      body: { text: 'Pick one' },
      footer: { text: 'Thanks' },
      action: { buttons: buttons(3) },
    });
    expect(out.media).toEqual([{ slot: 'header', kind: 'image', source: { id: '42' } }]);
    expect(out.content).toEqual({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'image', image: {} },
        body: { text: 'Pick one' },
        footer: { text: 'Thanks' },
        action: { buttons: buttons(3) },
      },
      text: 'Pick one',
    });
    const bound = bindMedia(out, [{ mediaId: 'med_h', mimeType: 'image/jpeg', sha256: 'cd', size: 3 }]);
    expect(bound.content).toHaveProperty('interactive.header', {
      type: 'image',
      image: { media_id: 'med_h', mime_type: 'image/jpeg', sha256: 'cd', file_size: 3 },
    });
  });

  it('a list, a CTA URL, a product, a product list, a catalog and a flow', () => {
    expect(
      inter({
        type: 'list',
        header: { type: 'text', text: 'Menu' },
        body: { text: 'Choose' },
        action: {
          button: 'See options',
          sections: [
            { title: 'A', rows: rows(4) },
            { title: 'B', rows: rows(6, 's') },
          ],
        },
      }).content,
    ).toMatchObject({ interactive: { type: 'list', action: { button: 'See options' } } });
    expect(
      inter({
        type: 'cta_url',
        body: { text: 'Tickets' },
        action: { name: 'cta_url', parameters: { display_text: 'See Dates', url: 'https://example.com/d' } },
      }).content,
    ).toMatchObject({ interactive: { action: { parameters: { url: 'https://example.com/d' } } } });
    expect(
      inter({ type: 'product', action: { catalog_id: 'c1', product_retailer_id: 'SKU1' } }).content,
    ).toEqual({
      type: 'interactive',
      interactive: { type: 'product', action: { catalog_id: 'c1', product_retailer_id: 'SKU1' } },
    });
    expect(
      inter({
        type: 'product_list',
        header: { type: 'text', text: 'Shoes' },
        body: { text: 'Our picks' },
        action: {
          catalog_id: 'c1',
          sections: [{ title: 'New', product_items: [{ product_retailer_id: 'a' }] }],
        },
      }).content,
    ).toMatchObject({ interactive: { type: 'product_list' } });
    expect(
      inter({
        type: 'catalog_message',
        body: { text: 'Browse' },
        action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: 'a' } },
      }).content,
    ).toMatchObject({ interactive: { type: 'catalog_message' } });
    const flow = {
      flow_message_version: '3',
      flow_id: '123',
      flow_cta: 'Book!',
      flow_token: 't',
      flow_action: 'navigate',
      flow_action_payload: { screen: 'A', data: { x: 1 } },
    };
    expect(
      inter({ type: 'flow', body: { text: 'Book' }, action: { name: 'flow', parameters: flow } }).content,
    ).toMatchObject({
      interactive: { action: { name: 'flow', parameters: flow } },
    });
  });

  it.each([
    [{ type: 'order_details', body: { text: 'x' }, action: {} }, 131051, 'order_details'],
    [{ body: { text: 'x' }, action: {} }, 131008, 'interactive.type'],
    [{ type: 'button', action: { buttons: buttons(1) } }, 131008, 'interactive.body'],
    [{ type: 'button', body: { text: 'x' } }, 131008, 'interactive.action'],
    [
      { type: 'button', body: { text: long(1025) }, action: { buttons: buttons(1) } },
      131009,
      'interactive.body.text',
    ],
    [
      { type: 'button', body: { text: 'x' }, footer: { text: long(61) }, action: { buttons: buttons(1) } },
      131009,
      'interactive.footer.text',
    ],
    [
      {
        type: 'button',
        header: { type: 'text', text: long(61) },
        body: { text: 'x' },
        action: { buttons: buttons(1) },
      },
      131009,
      'interactive.header.text',
    ],
    [
      { type: 'button', header: { type: 'gif' }, body: { text: 'x' }, action: { buttons: buttons(1) } },
      131009,
      'interactive.header.type',
    ],
    [{ type: 'button', body: { text: 'x' }, action: { buttons: [] } }, 131009, 'interactive.action.buttons'],
    [
      { type: 'button', body: { text: 'x' }, action: { buttons: buttons(4) } },
      131009,
      'interactive.action.buttons',
    ],
    [
      {
        type: 'button',
        body: { text: 'x' },
        action: { buttons: [{ type: 'url', reply: { id: 'a', title: 'b' } }] },
      },
      131009,
      'buttons[0].type',
    ],
    [
      {
        type: 'button',
        body: { text: 'x' },
        action: { buttons: [{ type: 'reply', reply: { id: long(257), title: 'b' } }] },
      },
      131009,
      'reply.id',
    ],
    [
      {
        type: 'button',
        body: { text: 'x' },
        action: { buttons: [{ type: 'reply', reply: { id: 'a', title: long(21) } }] },
      },
      131009,
      'reply.title',
    ],
    [
      { type: 'button', body: { text: 'x' }, action: { buttons: [{ type: 'reply', reply: { id: 'a' } }] } },
      131008,
      'reply.title',
    ],
    [
      {
        type: 'button',
        body: { text: 'x' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'a', title: 'A' } },
            { type: 'reply', reply: { id: 'a', title: 'B' } },
          ],
        },
      },
      131009,
      'button ids',
    ],
    [
      {
        type: 'button',
        body: { text: 'x' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'a', title: 'A' } },
            { type: 'reply', reply: { id: 'b', title: 'A' } },
          ],
        },
      },
      131009,
      'button titles',
    ],
    [
      { type: 'list', body: { text: 'x' }, action: { sections: [{ rows: rows(1) }] } },
      131008,
      'interactive.action.button',
    ],
    [
      { type: 'list', body: { text: 'x' }, action: { button: long(21), sections: [{ rows: rows(1) }] } },
      131009,
      'interactive.action.button',
    ],
    [{ type: 'list', body: { text: 'x' }, action: { button: 'b', sections: [] } }, 131009, 'sections'],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: Array(11).fill({ title: 't', rows: rows(1) }) },
      },
      131009,
      'sections',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: [{ rows: rows(1) }, { title: 'B', rows: rows(1, 's') }] },
      },
      131008,
      'sections[0].title',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: {
          button: 'b',
          sections: [
            { title: 'A', rows: rows(6) },
            { title: 'B', rows: rows(5, 's') },
          ],
        },
      },
      131009,
      '11 rows',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: {
          button: 'b',
          sections: [
            { title: 'A', rows: rows(1) },
            { title: 'B', rows: rows(1) },
          ],
        },
      },
      131009,
      'row ids',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: [{ rows: [{ id: long(201), title: 't' }] }] },
      },
      131009,
      'rows[0].id',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: [{ rows: [{ id: 'a', title: long(25) }] }] },
      },
      131009,
      'rows[0].title',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: [{ rows: [{ id: 'a', title: 't', description: long(73) }] }] },
      },
      131009,
      'rows[0].description',
    ],
    [
      {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'b', sections: [{ title: long(25), rows: rows(1) }] },
      },
      131009,
      'sections[0].title',
    ],
    [
      {
        type: 'list',
        header: { type: 'image', image: { id: '1' } },
        body: { text: 'x' },
        action: { button: 'b', sections: [{ rows: rows(1) }] },
      },
      131009,
      'must be text',
    ],
    [
      {
        type: 'cta_url',
        body: { text: 'x' },
        action: { name: 'cta_url', parameters: { display_text: long(21), url: 'https://a.b' } },
      },
      131009,
      'display_text',
    ],
    [
      {
        type: 'cta_url',
        body: { text: 'x' },
        action: { name: 'cta_url', parameters: { display_text: 'Go', url: 'javascript:alert(1)' } },
      },
      131009,
      'parameters.url',
    ],
    [
      { type: 'cta_url', body: { text: 'x' }, action: { name: 'nope', parameters: {} } },
      131009,
      'action.name',
    ],
    [
      {
        type: 'product',
        header: { type: 'text', text: 'h' },
        action: { catalog_id: 'c', product_retailer_id: 'p' },
      },
      100,
      'no header',
    ],
    [{ type: 'product', action: { catalog_id: 'c' } }, 131008, 'product_retailer_id'],
    [
      {
        type: 'product_list',
        body: { text: 'x' },
        action: { catalog_id: 'c', sections: [{ product_items: [{ product_retailer_id: 'a' }] }] },
      },
      131008,
      'interactive.header',
    ],
    [
      {
        type: 'product_list',
        header: { type: 'text', text: 'h' },
        body: { text: 'x' },
        action: {
          catalog_id: 'c',
          sections: [
            { title: 'a', product_items: Array(16).fill({ product_retailer_id: 'a' }) },
            { title: 'b', product_items: Array(15).fill({ product_retailer_id: 'b' }) },
          ],
        },
      },
      131009,
      '31 products',
    ],
    [
      {
        type: 'catalog_message',
        header: { type: 'text', text: 'h' },
        body: { text: 'x' },
        action: { name: 'catalog_message' },
      },
      100,
      'no header',
    ],
    [
      { type: 'flow', body: { text: 'x' }, action: { name: 'flow', parameters: { flow_cta: 'Go' } } },
      131008,
      'flow_id or',
    ],
    [
      {
        type: 'flow',
        body: { text: 'x' },
        action: { name: 'flow', parameters: { flow_cta: long(31), flow_id: '1' } },
      },
      131009,
      'flow_cta',
    ],
  ])('refuses %j', (interactive, code, field) => {
    const r = refusal(() => inter(interactive));
    expect(r.code).toBe(code);
    expect(r.details).toContain(field);
  });
});

describe('parseOutgoing: template', () => {
  it('hands the template object over untouched', () => {
    const template = { name: 'hello_world', language: { code: 'en_US' }, components: [{ type: 'body' }] };
    const out = send('template', { template });
    expect(out.template).toBe(template);
    expect(out.content).toEqual({ type: 'template', template });
    expect(refusal(() => send('template', {})).code).toBe(131008);
  });
});

describe('parseOutgoing: size', () => {
  it('refuses a message whose payload would pass 64 KiB', () => {
    const huge = { name: { formatted_name: 'x' }, addresses: Array(20).fill({ street: long(4000) }) };
    expect(refusal(() => send('contacts', { contacts: [huge] })).code).toBe(131009);
  });
});
