import { describe, expect, it } from 'vitest';
import { GraphError } from '../cloud-api/index.js';
import { parseSendTemplate, renderTemplate, type StoredTemplate } from './templates.render.js';

const order: StoredTemplate = {
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  parameter_format: 'POSITIONAL',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['42'] } },
    {
      type: 'BODY',
      text: 'Hi {{1}}, you paid {{2}} on {{3}}. Thanks!',
      example: { body_text: [['a', 'b', 'c']] },
    },
    { type: 'FOOTER', text: 'Acme Anvils' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'URL', text: 'Track', url: 'https://acme.test/track/{{1}}', example: ['42'] },
        { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+15550001111' },
        { type: 'QUICK_REPLY', text: 'Stop' },
      ],
    },
  ],
};

const send = (components: unknown[], extra: Record<string, unknown> = {}) =>
  parseSendTemplate({
    name: 'order_update',
    language: { code: 'en_US', policy: 'deterministic' },
    components,
    ...extra,
  });

const full = [
  { type: 'header', parameters: [{ type: 'text', text: '42' }] },
  {
    type: 'body',
    parameters: [
      { type: 'text', text: 'Mark' },
      { type: 'currency', currency: { fallback_value: '$100.99', code: 'USD', amount_1000: 100990 } },
      { type: 'date_time', date_time: { fallback_value: 'February 25, 1977' } },
    ],
  },
  { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'A-42' }] },
  {
    type: 'button',
    sub_type: 'quick_reply',
    index: 2,
    parameters: [{ type: 'payload', payload: 'STOP_42' }],
  },
];

function code(f: () => unknown): number {
  try {
    f();
  } catch (e: unknown) {
    if (e instanceof GraphError) return e.code;
    throw e;
  }
  throw new Error('expected a GraphError');
}

describe('template rendering', () => {
  it('substitutes text, currency and date_time (fallback values) and fills buttons', () => {
    expect(renderTemplate(order, send(full))).toEqual({
      header: { type: 'text', text: 'Order 42' },
      body: 'Hi Mark, you paid $100.99 on February 25, 1977. Thanks!',
      footer: 'Acme Anvils',
      buttons: [
        { type: 'url', text: 'Track', url: 'https://acme.test/track/A-42' },
        { type: 'phone_number', text: 'Call', phone_number: '+15550001111' },
        { type: 'quick_reply', text: 'Stop', payload: 'STOP_42' },
      ],
    });
  });

  it('answers 131008 / 131009 for missing or invalid fields', () => {
    expect(code(() => parseSendTemplate(undefined))).toBe(131008);
    expect(code(() => parseSendTemplate({ name: 'x' }))).toBe(131008);
    expect(code(() => parseSendTemplate({ name: 'x', language: {} }))).toBe(131008);
    expect(code(() => parseSendTemplate({ name: 'x', language: { code: 'en', policy: 'fallback' } }))).toBe(
      131009,
    );
    expect(code(() => send([{ type: 'footer', parameters: [] }]))).toBe(131009);
    expect(code(() => send([{ type: 'body', parameters: [{ type: 'text' }] }]))).toBe(131008);
    expect(
      code(() =>
        send([
          {
            type: 'body',
            parameters: [
              { type: 'currency', currency: { fallback_value: 'x', code: 'usd', amount_1000: 1 } },
            ],
          },
        ]),
      ),
    ).toBe(131009);
    expect(code(() => send([{ type: 'button', sub_type: 'voice', index: 0, parameters: [] }]))).toBe(131009);
    expect(code(() => send([{ type: 'header', parameters: [{ type: 'image', image: {} }] }]))).toBe(131009);
    const noSuchButton = send([
      ...full.slice(0, 2),
      { type: 'button', sub_type: 'quick_reply', index: 5, parameters: [] },
    ]);
    expect(code(() => renderTemplate(order, noSuchButton))).toBe(131009);
  });

  it('answers 132000 when the parameter count does not match', () => {
    const [header, body, url] = full;
    expect(
      code(() =>
        renderTemplate(
          order,
          send([header, { type: 'body', parameters: [{ type: 'text', text: 'a' }] }, url]),
        ),
      ),
    ).toBe(132000);
    expect(code(() => renderTemplate(order, send([body, url])))).toBe(132000);
    expect(code(() => renderTemplate(order, send([header, body])))).toBe(132000);
    const plain: StoredTemplate = { ...order, components: [{ type: 'BODY', text: 'Hello there.' }] };
    expect(code(() => renderTemplate(plain, send([header])))).toBe(132000);
    expect(
      code(() =>
        renderTemplate(plain, send([{ type: 'button', sub_type: 'quick_reply', index: 0, parameters: [] }])),
      ),
    ).toBe(132000);
  });

  it('answers 132012 when a parameter has the wrong type for its place', () => {
    const [, body, url] = full;
    const imageHeader = {
      type: 'header',
      parameters: [{ type: 'image', image: { link: 'https://x.test/a.png' } }],
    };
    expect(code(() => renderTemplate(order, send([imageHeader, body, url])))).toBe(132012);
    const video: StoredTemplate = {
      ...order,
      components: [
        { type: 'HEADER', format: 'VIDEO', example: { header_handle: ['h'] } },
        { type: 'BODY', text: 'Watch this.' },
      ],
    };
    expect(code(() => renderTemplate(video, send([imageHeader])))).toBe(132012);
    expect(
      code(() => renderTemplate(order, send([full[0], body, { ...url, sub_type: 'quick_reply' }]))),
    ).toBe(132012);
    expect(
      code(() =>
        send([
          { type: 'header', parameters: [{ type: 'document', document: { link: 'https://x.test/a.docx' } }] },
        ]),
      ),
    ).toBe(132012);
  });

  it('answers 132005 when the rendered text is too long', () => {
    const [header, , url] = full;
    const long = {
      type: 'body',
      parameters: [
        { type: 'text', text: 'x'.repeat(1000) },
        { type: 'text', text: 'y' },
        { type: 'text', text: 'z' },
      ],
    };
    expect(code(() => renderTemplate(order, send([header, long, url])))).toBe(132005);
    const longHeader = { type: 'header', parameters: [{ type: 'text', text: 'x'.repeat(60) }] };
    expect(code(() => renderTemplate(order, send([longHeader, full[1], url])))).toBe(132005);
  });

  it('renders media and location headers, named parameters, copy codes and authentication codes', () => {
    const doc: StoredTemplate = {
      ...order,
      components: [
        { type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['h'] } },
        { type: 'BODY', text: 'Your receipt.' },
      ],
    };
    expect(
      renderTemplate(
        doc,
        send([{ type: 'header', parameters: [{ type: 'document', document: { id: '123' } }] }]),
      ).header,
    ).toEqual({
      type: 'document',
      media: { id: '123' },
    });
    const loc: StoredTemplate = {
      ...order,
      components: [
        { type: 'HEADER', format: 'LOCATION' },
        { type: 'BODY', text: 'Here we are.' },
      ],
    };
    const location = { latitude: 37.75, longitude: -122.42, name: 'Shop' };
    expect(
      renderTemplate(loc, send([{ type: 'header', parameters: [{ type: 'location', location }] }])).header,
    ).toEqual({
      type: 'location',
      location,
    });

    const named: StoredTemplate = {
      ...order,
      parameter_format: 'NAMED',
      components: [{ type: 'BODY', text: 'Hi {{first_name}}, order {{order_id}} shipped.' }],
    };
    const params = [
      { type: 'text', parameter_name: 'order_id', text: '42' },
      { type: 'text', parameter_name: 'first_name', text: 'Pablo' },
    ];
    expect(renderTemplate(named, send([{ type: 'body', parameters: params }])).body).toBe(
      'Hi Pablo, order 42 shipped.',
    );
    expect(
      code(() =>
        renderTemplate(named, send([{ type: 'body', parameters: [params[0], { type: 'text', text: 'x' }] }])),
      ),
    ).toBe(132000);

    const coupon: StoredTemplate = {
      ...order,
      category: 'MARKETING',
      components: [
        { type: 'BODY', text: 'A gift for you.' },
        { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE', text: 'Copy offer code', example: ['X'] }] },
      ],
    };
    const copy = {
      type: 'button',
      sub_type: 'copy_code',
      index: 0,
      parameters: [{ type: 'coupon_code', coupon_code: 'SAVE25' }],
    };
    expect(renderTemplate(coupon, send([copy])).buttons).toEqual([
      { type: 'copy_code', text: 'Copy offer code', payload: 'SAVE25' },
    ]);
    expect(code(() => renderTemplate(coupon, send([])))).toBe(132000);

    const auth: StoredTemplate = {
      ...order,
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] },
      ],
    };
    const rendered = renderTemplate(
      auth,
      send([
        { type: 'body', parameters: [{ type: 'text', text: '123456' }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '123456' }] },
      ]),
    );
    expect(rendered).toEqual({
      body: '123456 is your verification code. For your security, do not share this code.',
      footer: 'This code expires in 10 minutes.',
      buttons: [{ type: 'otp', text: 'Copy code', payload: '123456' }],
    });
  });
});
