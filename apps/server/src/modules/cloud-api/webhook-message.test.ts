import { describe, expect, it } from 'vitest';
import { toWamid } from './wamid.js';
import { type InboundMessageInput, sha256Base64, toWebhookMessage } from './webhook-message.js';

const MSG = 'msg_01M87HH2PYYZ2Z36SM1R2QJ1C4';
const BIZ_MSG = 'msg_01M87HH25DZGS0C5HAX5ECVZA0';
const HEX = 'a'.repeat(64);

const base: InboundMessageInput = {
  messageId: MSG,
  fromPhone: '+16505551234',
  sentAt: 1_749_416_383_999,
  kind: 'message',
  payload: { text: 'Does it come in another color?' },
};
const map = (over: Partial<InboundMessageInput>) => toWebhookMessage({ ...base, ...over });
const media = { graphId: '1003383421387256', mime_type: 'image/jpeg', sha256: HEX };

describe('toWebhookMessage', () => {
  it('a Parley text message: Meta’s text shape, digits-only from, wamid id, timestamp in seconds', () => {
    expect(map({})).toEqual({
      from: '16505551234',
      id: toWamid(MSG),
      timestamp: '1749416383',
      type: 'text',
      text: { body: 'Does it come in another color?' },
    });
    expect(map({ payload: { type: 'text', text: 'typed' } })).toMatchObject({
      type: 'text',
      text: { body: 'typed' },
    });
    expect(map({ payload: 'raw words' })).toMatchObject({ type: 'text', text: { body: 'raw words' } });
  });

  it('a reply, and forwarded messages, carry context', () => {
    expect(map({ replyTo: BIZ_MSG, replyToFrom: '+15550783881' }).context).toEqual({
      from: '15550783881',
      id: toWamid(BIZ_MSG),
    });
    expect(map({ forwarded: true }).context).toEqual({ forwarded: true });
    expect(map({ forwarded: true, forwardedMany: true }).context).toEqual({
      forwarded: true,
      frequently_forwarded: true,
    });
    expect(map({}).context).toBeUndefined();
  });

  it('media: the Graph id, mime type, base64 SHA-256 and the caption from the text', () => {
    expect(map({ payload: { text: 'Taj Mahal' }, media: [media] })).toMatchObject({
      type: 'image',
      image: { caption: 'Taj Mahal', mime_type: 'image/jpeg', sha256: sha256Base64(HEX), id: media.graphId },
    });
    expect(sha256Base64(HEX)).toBe(Buffer.from(HEX, 'hex').toString('base64'));
    expect(map({ payload: {}, media: [{ ...media, mime_type: 'video/mp4' }] })).toEqual(
      expect.objectContaining({
        type: 'video',
        video: { mime_type: 'video/mp4', sha256: sha256Base64(HEX), id: media.graphId },
      }),
    );
    expect(map({ payload: {}, media: [{ ...media, mime_type: 'audio/ogg' }] }).audio).toEqual({
      mime_type: 'audio/ogg',
      sha256: sha256Base64(HEX),
      id: media.graphId,
      voice: false,
    });
    expect(
      map({
        payload: { type: 'audio', audio: { voice: true } },
        media: [{ ...media, mime_type: 'audio/ogg' }],
      }).audio,
    ).toMatchObject({ voice: true });
    expect(map({ payload: {}, media: [{ ...media, mime_type: 'image/webp' }] })).toMatchObject({
      type: 'sticker',
      sticker: { animated: false },
    });
    expect(
      map({
        payload: { text: 'Receipt' },
        media: [{ ...media, mime_type: 'application/pdf', filename: 'r.pdf' }],
      }),
    ).toMatchObject({
      type: 'document',
      document: { caption: 'Receipt', filename: 'r.pdf', mime_type: 'application/pdf' },
    });
    expect(map({ payload: { type: 'image' } }).type).toBe('unsupported');
  });

  it('location, contacts', () => {
    expect(
      map({
        payload: { type: 'location', location: { latitude: 37.4, longitude: '-122.1', name: 'Philz' } },
      }),
    ).toMatchObject({
      type: 'location',
      location: { latitude: 37.4, longitude: -122.1, name: 'Philz', address: '' },
    });
    expect(map({ payload: { type: 'location', location: { latitude: 'x' } } }).type).toBe('unsupported');
    const contacts = [
      {
        name: { formatted_name: 'Lucía Gómez', first_name: 'Lucía' },
        phones: [{ phone: '+1 983', wa_id: '1983', type: 'MOBILE' }],
        org: { company: 'G' },
      },
    ];
    expect(map({ payload: { type: 'contacts', contacts } })).toMatchObject({ type: 'contacts', contacts });
    expect(map({ payload: { type: 'contacts', contacts: [] } }).type).toBe('unsupported');
  });

  it('reactions: the reacted message as a wamid; a removal has an empty emoji', () => {
    expect(map({ kind: 'reaction', ref: BIZ_MSG, payload: { text: '👍' } })).toEqual({
      from: '16505551234',
      id: toWamid(MSG),
      timestamp: '1749416383',
      type: 'reaction',
      reaction: { message_id: toWamid(BIZ_MSG), emoji: '👍' },
    });
    expect(map({ kind: 'reaction', ref: BIZ_MSG, payload: null }).reaction).toEqual({
      message_id: toWamid(BIZ_MSG),
      emoji: '',
    });
  });

  it('button and list replies, template quick replies and orders', () => {
    const ctx = { replyTo: BIZ_MSG, replyToFrom: '+15550783881' };
    expect(
      map({
        ...ctx,
        payload: {
          type: 'interactive',
          interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } },
        },
      }),
    ).toMatchObject({
      type: 'interactive',
      context: { from: '15550783881', id: toWamid(BIZ_MSG) },
      interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } },
    });
    expect(
      map({
        ...ctx,
        payload: {
          type: 'interactive',
          interactive: { type: 'list_reply', list_reply: { id: 'r1', title: 'Row' } },
        },
      }).interactive,
    ).toEqual({ type: 'list_reply', list_reply: { id: 'r1', title: 'Row', description: '' } });
    expect(
      map({ ...ctx, payload: { type: 'button', button: { payload: 'STOP', text: 'Stop promotions' } } }),
    ).toMatchObject({
      type: 'button',
      button: { payload: 'STOP', text: 'Stop promotions' },
    });
    const order = {
      catalog_id: '1948',
      text: '',
      product_items: [{ product_retailer_id: 'di9', quantity: 2, item_price: 30, currency: 'USD' }],
    };
    expect(map({ payload: { type: 'order', order } })).toMatchObject({ type: 'order', order });
    expect(
      map({ payload: { type: 'order', order: { ...order, product_items: [{ quantity: 1 }] } } }).type,
    ).toBe('unsupported');
    expect(
      map({
        payload: { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'x' } } },
      }).type,
    ).toBe('unsupported');
  });

  it('anything else is unsupported with error 131051, as the Cloud API sends it', () => {
    const expected = {
      type: 'unsupported',
      errors: [
        {
          code: 131051,
          title: 'Message type unknown',
          message: 'Message type unknown',
          error_data: { details: expect.any(String) },
        },
      ],
    };
    expect(map({ payload: { type: 'poll', poll: {} } })).toMatchObject(expected);
    expect(map({ payload: 42 })).toMatchObject(expected);
    expect(map({ payload: {} })).toMatchObject(expected);
    expect(map({ kind: 'edit', ref: BIZ_MSG })).toMatchObject(expected);
    expect(map({ kind: 'delete', ref: BIZ_MSG, payload: '' })).toMatchObject(expected);
  });
});
