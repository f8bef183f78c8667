import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphError } from '../cloud-api/index.js';
import { validateTemplate, variablesOf } from './templates.validate.js';

const utility = (components: unknown[], extra: Record<string, unknown> = {}) => ({
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  components,
  ...extra,
});
const body = (text: string, example?: string[][]) => ({
  type: 'BODY',
  text,
  ...(example ? { example: { body_text: example } } : {}),
});

/** The Graph error a call throws (or fails the test when it throws none). */
function refusal(f: () => unknown): GraphError {
  try {
    f();
  } catch (e: unknown) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected a GraphError');
}

describe('template validation', () => {
  it('accepts Meta’s own examples and normalises types to upper case in display order', () => {
    const def = validateTemplate({
      name: 'seasonal_promotion_text_only',
      language: 'en',
      category: 'marketing',
      components: [
        { type: 'footer', text: 'Use the buttons below to manage your marketing subscriptions' },
        {
          type: 'BODY',
          text: 'Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.',
          example: { body_text: [['the end of August', '25OFF', '25%']] },
        },
        {
          type: 'HEADER',
          format: 'TEXT',
          text: 'Our {{1}} is on!',
          example: { header_text: ['Summer Sale'] },
        },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Unsubcribe from Promos' },
            { type: 'QUICK_REPLY', text: 'Unsubscribe from All' },
          ],
        },
      ],
    });
    expect(def.category).toBe('MARKETING');
    expect(def.parameter_format).toBe('POSITIONAL');
    expect(def.components.map((c) => c.type)).toEqual(['HEADER', 'BODY', 'FOOTER', 'BUTTONS']);

    const auth = validateTemplate({
      name: 'authentication_code_autofill_button',
      language: 'en_US',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        {
          type: 'BUTTONS',
          buttons: [
            {
              type: 'OTP',
              otp_type: 'ONE_TAP',
              text: 'Copy Code',
              autofill_text: 'Autofill',
              package_name: 'com.example.luckyshrub',
              signature_hash: 'K8a%2FAINcGX7',
            },
          ],
        },
      ],
    });
    expect(auth.components[2]).toMatchObject({
      type: 'BUTTONS',
      buttons: [{ type: 'OTP', otp_type: 'ONE_TAP' }],
    });

    const doc = validateTemplate(
      utility([
        { type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['4::YXBw'] } },
        body('Thank you for your order, {{1}}! Your order number is {{2}}. Thanks again!', [
          ['Mark', '860198'],
        ]),
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'PHONE_NUMBER', text: 'Call', phone_number: '16467043595' },
            { type: 'URL', text: 'Track', url: 'https://example.com/track/{{1}}', example: ['860198'] },
          ],
        },
      ]),
    );
    expect(doc.components).toHaveLength(3);
    expect(
      validateTemplate(utility([{ type: 'HEADER', format: 'LOCATION' }, body('Your parcel is on its way.')]))
        .components[0],
    ).toEqual({
      type: 'HEADER',
      format: 'LOCATION',
    });
  });

  it('refuses bad names, languages and categories with code 100 and details', () => {
    for (const name of ['Order', 'order-update', '', 'a'.repeat(513), 'ünïcode']) {
      const e = refusal(() => validateTemplate(utility([body('Hello there')], { name })));
      expect(e.code).toBe(100);
      expect(e.extra.details).toMatch(/name/);
    }
    expect(
      refusal(() => validateTemplate(utility([body('Hi')], { language: 'xx_YY' }))).extra.details,
    ).toMatch(/language/);
    expect(
      refusal(() => validateTemplate(utility([body('Hi')], { category: 'ALERT_UPDATE' }))).extra.details,
    ).toMatch(/MARKETING, UTILITY, AUTHENTICATION/);
    expect(validateTemplate(utility([body('Hi')], { name: 'a'.repeat(512) })).name).toHaveLength(512);
  });

  it('enforces the length limits with subcode 2388040', () => {
    const long = (n: number) => 'x'.repeat(n);
    const cases = [
      utility([body(long(1025))]),
      utility([{ type: 'HEADER', format: 'TEXT', text: long(61) }, body('Hi there')]),
      utility([body('Hi there'), { type: 'FOOTER', text: long(61) }]),
      utility([body('Hi there'), { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: long(26) }] }]),
    ];
    for (const c of cases) {
      const e = refusal(() => validateTemplate(c));
      expect([e.code, e.extra.subcode]).toEqual([100, 2388040]);
    }
    expect(() => validateTemplate(utility([body(long(1024))]))).not.toThrow();
  });

  it('checks headers: one variable at most, examples, media samples', () => {
    const twoVars = utility([
      {
        type: 'HEADER',
        format: 'TEXT',
        text: 'Hi {{1}} and {{2}} you',
        example: { header_text: ['a', 'b'] },
      },
      body('Hello there'),
    ]);
    expect(refusal(() => validateTemplate(twoVars)).extra).toMatchObject({ subcode: 2388047 });
    const noExample = utility([{ type: 'HEADER', format: 'TEXT', text: 'Hi {{1}}' }, body('Hello there')]);
    expect(refusal(() => validateTemplate(noExample)).extra.details).toMatch(/header_text/);
    const image = utility([{ type: 'HEADER', format: 'IMAGE' }, body('Hello there')]);
    expect(refusal(() => validateTemplate(image)).extra.details).toMatch(/header_handle/);
    const bad = utility([{ type: 'HEADER', format: 'GIF' }, body('Hello there')]);
    expect(refusal(() => validateTemplate(bad)).extra.details).toMatch(/HEADER format/);
  });

  it('requires a body, allows each component once, and no variables in the footer', () => {
    expect(refusal(() => validateTemplate(utility([{ type: 'FOOTER', text: 'x' }]))).extra.details).toMatch(
      /BODY/,
    );
    expect(refusal(() => validateTemplate(utility([body('a'), body('b')]))).extra.details).toMatch(
      /at most one BODY/,
    );
    expect(
      refusal(() => validateTemplate(utility([body('Hello there'), { type: 'FOOTER', text: 'Bye {{1}}' }])))
        .extra.details,
    ).toMatch(/FOOTER text may not contain variables/);
    expect(refusal(() => validateTemplate(utility([]))).extra.details).toMatch(/components/);
  });

  it('checks body variables: sequence, edges, adjacency, examples', () => {
    const d = (text: string, ex?: string[][]) =>
      refusal(() => validateTemplate(utility([body(text, ex)]))).extra.details;
    expect(d('Hi {{1}} and {{3}} there', [['a', 'b']])).toMatch(/\{\{2\}\} is missing/);
    expect(d('{{1}} is your order', [['a']])).toMatch(/may not start with a variable/);
    expect(d('Your order is {{1}}', [['a']])).toMatch(/may not end with a variable/);
    expect(d('Your order {{1}} {{2}} is here', [['a', 'b']])).toMatch(/next to each other/);
    expect(d('Your order {{1}} is here')).toMatch(/example.body_text/);
    expect(d('Your order {{1}} is here', [['a', 'b']])).toMatch(/one non-empty sample per variable/);
    expect(d('Your order {{x}} is here', [['a']])).toMatch(/not a variable/);
    expect(d('Your order {{1} is here')).toMatch(/malformed/);
    expect(d('Your {{1}} order {{1}} is here', [['a']])).toMatch(/more than once/);
    expect(() =>
      validateTemplate(utility([body('Hi {{2}}, order {{1}} shipped.', [['a', 'b']])])),
    ).not.toThrow();
  });

  it('supports NAMED variables with body_text_named_params', () => {
    const named = (example: unknown) =>
      validateTemplate(
        utility([{ type: 'BODY', text: 'Hi {{first_name}}, order {{order_id}} shipped.', example }], {
          parameter_format: 'NAMED',
        }),
      );
    expect(
      named({
        body_text_named_params: [
          { param_name: 'first_name', example: 'Pablo' },
          { param_name: 'order_id', example: '42' },
        ],
      }).parameter_format,
    ).toBe('NAMED');
    expect(
      refusal(() => named({ body_text_named_params: [{ param_name: 'first_name', example: 'Pablo' }] })).extra
        .details,
    ).toMatch(/exactly the variables/);
    expect(
      refusal(() =>
        validateTemplate(utility([body('Hi {{1}} there', [['a']])], { parameter_format: 'NAMED' })),
      ).extra.details,
    ).toMatch(/not a named variable/);
  });

  it('checks buttons: counts, grouping, URL variables, OTP only for authentication', () => {
    const buttons = (list: unknown[], category = 'UTILITY') =>
      refusal(() =>
        validateTemplate(utility([body('Hello there'), { type: 'BUTTONS', buttons: list }], { category })),
      ).extra.details;
    const qr = (i: number) => ({ type: 'QUICK_REPLY', text: `Reply ${i}` });
    const url = (u = 'https://example.com/a') => ({ type: 'URL', text: 'Open', url: u });
    expect(buttons(Array.from({ length: 11 }, (_, i) => qr(i)))).toMatch(/at most 10 buttons/);
    expect(buttons([url(), url(), url()])).toMatch(/at most 2 URL/);
    expect(
      buttons([
        { type: 'PHONE_NUMBER', text: 'a', phone_number: '+15550001' },
        { type: 'PHONE_NUMBER', text: 'b', phone_number: '+15550002' },
      ]),
    ).toMatch(/at most one PHONE_NUMBER/);
    expect(buttons([qr(1), url(), qr(2)])).toMatch(/grouped/);
    expect(buttons([url('https://example.com/{{1}}/x')])).toMatch(/at the very end/);
    expect(buttons([url('https://example.com/{{1}}')])).toMatch(/example/);
    expect(buttons([url('ftp://example.com')])).toMatch(/http\(s\) URL/);
    expect(buttons([{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy' }])).toMatch(
      /only for AUTHENTICATION/,
    );
    expect(buttons([{ type: 'COPY_CODE' }])).toMatch(/sample offer code/);
    expect(buttons([{ type: 'VOICE_CALL', text: 'Call' }])).toMatch(/type must be one of/);
    expect(() =>
      validateTemplate(utility([body('Hello there'), { type: 'BUTTONS', buttons: [url(), qr(1), qr(2)] }])),
    ).not.toThrow();
  });

  it('holds authentication templates to their fixed form', () => {
    const auth = (components: unknown[]) =>
      refusal(() =>
        validateTemplate({ name: 'otp', language: 'en_US', category: 'AUTHENTICATION', components }),
      ).extra.details;
    const otp = { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }] };
    expect(auth([{ type: 'BODY', text: 'Your code is {{1}} ok' }, otp])).toMatch(/has no text/);
    expect(auth([{ type: 'BODY' }])).toMatch(/OTP button/);
    expect(auth([{ type: 'BODY' }, { type: 'FOOTER', code_expiration_minutes: 91 }, otp])).toMatch(/1 to 90/);
    expect(auth([{ type: 'HEADER', format: 'TEXT', text: 'x' }, { type: 'BODY' }, otp])).toMatch(/no HEADER/);
    expect(
      auth([
        { type: 'BODY' },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'ONE_TAP', text: 'Autofill' }] },
      ]),
    ).toMatch(/package_name/);
  });

  it('variables: any gap-free 1..n numbering embedded in words is accepted, any gap refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const order = Array.from({ length: n }, (_, i) => i + 1).sort(
          (a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13),
        );
        const text = `Dear ${order.map((k) => `{{${k}}}`).join(' and ')} thanks`;
        expect(variablesOf(text, 'POSITIONAL', 'BODY', true).names).toHaveLength(n);
        const gap = text.replace(`{{${n}}}`, `{{${n + 1}}}`);
        expect(() => variablesOf(gap, 'POSITIONAL', 'BODY', true)).toThrow(GraphError);
      }),
    );
  });
});
