/**
 * The send side of templates: reads the `template` object of a `POST /{pnid}/messages`
 * request and renders the approved template with its parameters, throwing the GraphErrors
 * Meta answers: 131008/131009 for a missing or invalid field, 132000 when the parameters do
 * not match the template's variables in number (or names), 132012 when a parameter has the
 * wrong type for its place, 132005 when the rendered text is too long. Pure; the lookup of
 * the template (132001, 132015, 132016) is the service's.
 *
 * Currency and date_time parameters render as their `fallback_value`, as the Cloud API does.
 */
import { graphErrors } from '../cloud-api/index.js';
import {
  authenticationTexts,
  type HeaderComponent,
  LIMITS,
  type ParameterFormat,
  type TemplateButton,
  type TemplateComponent,
  variablesOf,
} from './templates.validate.js';

export interface SendTemplateRequest {
  name: string;
  languageCode: string;
  components: SendComponent[];
}

type Media = { id?: string; link?: string };
export interface Location {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

type BodyParam =
  | { type: 'text'; text: string; parameter_name?: string }
  | {
      type: 'currency';
      currency: { fallback_value: string; code: string; amount_1000: number };
      parameter_name?: string;
    }
  | { type: 'date_time'; date_time: { fallback_value: string }; parameter_name?: string };
type MediaParam = { type: 'image' | 'video' | 'document'; media: Media };
type LocationParam = { type: 'location'; location: Location };
type Param = BodyParam | MediaParam | LocationParam;
type ButtonParam =
  | { type: 'payload'; payload: string }
  | { type: 'text'; text: string }
  | { type: 'coupon_code'; coupon_code: string }
  | { type: 'action'; action: Record<string, unknown> };

export type SendComponent =
  | { type: 'header' | 'body'; parameters: Param[] }
  | { type: 'button'; sub_type: ButtonSubType; index: number; parameters: ButtonParam[] };

const SUB_TYPES = ['quick_reply', 'url', 'copy_code', 'flow', 'catalog', 'mpm'] as const;
type ButtonSubType = (typeof SUB_TYPES)[number];

export type RenderedHeader =
  | { type: 'text'; text: string }
  | { type: 'image' | 'video' | 'document'; media: Media }
  | { type: 'location'; location: Location };
export interface RenderedButton {
  type: 'quick_reply' | 'url' | 'phone_number' | 'copy_code' | 'otp' | 'flow' | 'catalog' | 'mpm';
  text: string;
  url?: string;
  phone_number?: string;
  payload?: string;
}
export interface Rendered {
  header?: RenderedHeader;
  body: string;
  footer?: string;
  buttons?: RenderedButton[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function requiredString(v: unknown, field: string): string {
  if (v === undefined || v === null) throw graphErrors.missingParameter(`${field} is required.`);
  if (typeof v !== 'string') throw graphErrors.badValue(`${field} must be a string.`);
  return v;
}

function media(v: unknown, field: string): Media {
  if (!isRecord(v)) throw graphErrors.missingParameter(`${field} is required: {"id": …} or {"link": …}.`);
  const out: Media = {};
  if (v.id !== undefined) out.id = requiredString(v.id, `${field}.id`);
  if (v.link !== undefined) {
    const link = requiredString(v.link, `${field}.link`);
    if (!/^https?:\/\/\S+$/i.test(link)) throw graphErrors.badValue(`${field}.link must be an http(s) URL.`);
    out.link = link;
  }
  if ((out.id === undefined) === (out.link === undefined)) {
    throw graphErrors.badValue(`${field} takes exactly one of id and link.`);
  }
  return out;
}

function parameter(p: unknown, field: string): Param {
  if (!isRecord(p)) throw graphErrors.badValue(`${field} must be an object.`);
  const type = requiredString(p.type, `${field}.type`);
  const name =
    p.parameter_name === undefined
      ? {}
      : { parameter_name: requiredString(p.parameter_name, `${field}.parameter_name`) };
  switch (type) {
    case 'text':
      return { type, text: requiredString(p.text, `${field}.text`), ...name };
    case 'currency': {
      const c = p.currency;
      if (!isRecord(c)) throw graphErrors.missingParameter(`${field}.currency is required.`);
      const code = requiredString(c.code, `${field}.currency.code`);
      if (!/^[A-Z]{3}$/.test(code))
        throw graphErrors.badValue(`${field}.currency.code must be an ISO 4217 code.`);
      if (c.amount_1000 === undefined)
        throw graphErrors.missingParameter(`${field}.currency.amount_1000 is required.`);
      if (typeof c.amount_1000 !== 'number' || !Number.isInteger(c.amount_1000)) {
        throw graphErrors.badValue(
          `${field}.currency.amount_1000 must be a whole number (the amount × 1000).`,
        );
      }
      return {
        type,
        currency: {
          fallback_value: requiredString(c.fallback_value, `${field}.currency.fallback_value`),
          code,
          amount_1000: c.amount_1000,
        },
        ...name,
      };
    }
    case 'date_time': {
      const d = p.date_time;
      if (!isRecord(d)) throw graphErrors.missingParameter(`${field}.date_time is required.`);
      return {
        type,
        date_time: { fallback_value: requiredString(d.fallback_value, `${field}.date_time.fallback_value`) },
        ...name,
      };
    }
    case 'image':
    case 'video':
    case 'document': {
      const m = media(p[type], `${field}.${type}`);
      // Document headers take PDFs only; a link that names another kind of file is refused.
      if (type === 'document' && m.link) {
        const ext = /\.([a-z0-9]{1,5})(?:[?#].*)?$/i.exec(new URL(m.link).pathname)?.[1]?.toLowerCase();
        if (ext !== undefined && ext !== 'pdf') {
          throw graphErrors.templateParamFormat(`${field}: a document header takes a PDF, not .${ext}.`);
        }
      }
      return { type, media: m };
    }
    case 'location': {
      const l = p.location;
      if (!isRecord(l)) throw graphErrors.missingParameter(`${field}.location is required.`);
      for (const k of ['latitude', 'longitude'] as const) {
        if (typeof l[k] !== 'number' || !Number.isFinite(l[k])) {
          throw graphErrors.badValue(`${field}.location.${k} must be a number.`);
        }
      }
      const location: Location = { latitude: l.latitude as number, longitude: l.longitude as number };
      if (l.name !== undefined) location.name = requiredString(l.name, `${field}.location.name`);
      if (l.address !== undefined) location.address = requiredString(l.address, `${field}.location.address`);
      return { type, location };
    }
    default:
      throw graphErrors.badValue(
        `${field}.type "${type}" is not a parameter type (text, currency, date_time, image, video, document, location).`,
      );
  }
}

function buttonParameter(p: unknown, field: string): ButtonParam {
  if (!isRecord(p)) throw graphErrors.badValue(`${field} must be an object.`);
  const type = requiredString(p.type, `${field}.type`);
  switch (type) {
    case 'payload':
      return { type, payload: requiredString(p.payload, `${field}.payload`) };
    case 'text':
      return { type, text: requiredString(p.text, `${field}.text`) };
    case 'coupon_code':
      return { type, coupon_code: requiredString(p.coupon_code, `${field}.coupon_code`) };
    case 'action':
      if (!isRecord(p.action)) throw graphErrors.missingParameter(`${field}.action is required.`);
      return { type, action: p.action };
    default:
      throw graphErrors.templateParamFormat(
        `${field}.type "${type}" is not a button parameter type (payload, text, coupon_code, action).`,
      );
  }
}

/** Reads the `template` object of a send request (131008 / 131009 on a bad shape). */
export function parseSendTemplate(raw: unknown): SendTemplateRequest {
  if (!isRecord(raw))
    throw graphErrors.missingParameter('template is required for a message of type template.');
  const name = requiredString(raw.name, 'template.name');
  if (!isRecord(raw.language))
    throw graphErrors.missingParameter("The parameter template['language']['code'] is required.");
  const languageCode = requiredString(raw.language.code, 'template.language.code');
  if (raw.language.policy !== undefined && raw.language.policy !== 'deterministic') {
    throw graphErrors.badValue('template.language.policy must be "deterministic".');
  }
  const components: SendComponent[] = [];
  if (raw.components !== undefined) {
    if (!Array.isArray(raw.components)) throw graphErrors.badValue('template.components must be an array.');
    for (const [i, c] of raw.components.entries()) {
      const field = `template.components[${i}]`;
      if (!isRecord(c)) throw graphErrors.badValue(`${field} must be an object.`);
      const type = requiredString(c.type, `${field}.type`).toLowerCase();
      const list = c.parameters ?? [];
      if (!Array.isArray(list)) throw graphErrors.badValue(`${field}.parameters must be an array.`);
      if (type === 'header' || type === 'body') {
        components.push({ type, parameters: list.map((p, j) => parameter(p, `${field}.parameters[${j}]`)) });
      } else if (type === 'button') {
        const subType = requiredString(c.sub_type, `${field}.sub_type`).toLowerCase();
        if (!(SUB_TYPES as readonly string[]).includes(subType)) {
          throw graphErrors.badValue(`${field}.sub_type must be one of ${SUB_TYPES.join(', ')}.`);
        }
        const index =
          typeof c.index === 'number' ? c.index : Number(requiredString(c.index, `${field}.index`));
        if (!Number.isInteger(index) || index < 0 || index >= LIMITS.buttons) {
          throw graphErrors.badValue(
            `${field}.index must be the button's position, 0 to ${LIMITS.buttons - 1}.`,
          );
        }
        components.push({
          type: 'button',
          sub_type: subType as ButtonSubType,
          index,
          parameters: list.map((p, j) => buttonParameter(p, `${field}.parameters[${j}]`)),
        });
      } else {
        throw graphErrors.badValue(`${field}.type must be header, body or button.`);
      }
    }
  }
  return { name, languageCode, components };
}

export interface StoredTemplate {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  parameter_format: ParameterFormat;
  components: TemplateComponent[];
}

const textOf = (p: BodyParam): string =>
  p.type === 'text' ? p.text : p.type === 'currency' ? p.currency.fallback_value : p.date_time.fallback_value;

/** Fills the variables of `text` from text/currency/date_time parameters. */
function fill(text: string, format: ParameterFormat, params: Param[], where: string): string {
  const { names } = variablesOf(text, format, where);
  if (params.length !== names.length) {
    throw graphErrors.templateParamCount(
      `${where} has ${names.length} variable(s); ${params.length} parameter(s) were given.`,
    );
  }
  const values = new Map<string, string>();
  params.forEach((p, i) => {
    if (p.type !== 'text' && p.type !== 'currency' && p.type !== 'date_time') {
      throw graphErrors.templateParamFormat(
        `${where} parameters are text, currency or date_time, not ${p.type}.`,
      );
    }
    if (format === 'NAMED') {
      if (p.parameter_name === undefined || !names.includes(p.parameter_name)) {
        throw graphErrors.templateParamCount(
          `${where}: each parameter needs a parameter_name among ${names.map((n) => `"${n}"`).join(', ')}.`,
        );
      }
      if (values.has(p.parameter_name))
        throw graphErrors.templateParamCount(`${where}: "${p.parameter_name}" is given twice.`);
      values.set(p.parameter_name, textOf(p));
    } else {
      values.set(String(i + 1), textOf(p));
    }
  });
  return text.replace(/\{\{([^{}]*)\}\}/g, (_, name: string) => values.get(name) ?? '');
}

function tooLong(text: string, max: number, what: string): void {
  if ([...text].length > max)
    throw graphErrors.templateTextTooLong(
      `${what} is ${[...text].length} characters with its parameters; at most ${max}.`,
    );
}

function renderHeader(
  h: HeaderComponent | undefined,
  given: Extract<SendComponent, { type: 'header' | 'body' }> | undefined,
  format: ParameterFormat,
) {
  const params = given?.parameters ?? [];
  if (!h) {
    if (params.length > 0)
      throw graphErrors.templateParamCount('The template has no header; header parameters were given.');
    return undefined;
  }
  if (h.format === 'TEXT') {
    const text = fill(h.text ?? '', format, params, 'The header');
    tooLong(text, LIMITS.headerText, 'The header');
    return { type: 'text', text } as const;
  }
  if (params.length !== 1) {
    throw graphErrors.templateParamCount(
      `The template's ${h.format} header needs one ${h.format.toLowerCase()} parameter.`,
    );
  }
  const p = params[0] as Param;
  if (h.format === 'LOCATION') {
    if (p.type !== 'location')
      throw graphErrors.templateParamFormat(`The header is a LOCATION; a ${p.type} parameter was given.`);
    return { type: 'location', location: p.location } as const;
  }
  const want = h.format.toLowerCase() as 'image' | 'video' | 'document';
  if (p.type !== want)
    throw graphErrors.templateParamFormat(`The header is ${h.format}; a ${p.type} parameter was given.`);
  return { type: want, media: (p as MediaParam).media } as const;
}

const SUB_TYPE_OF: Record<TemplateButton['type'], ButtonSubType> = {
  QUICK_REPLY: 'quick_reply',
  URL: 'url',
  PHONE_NUMBER: 'url',
  COPY_CODE: 'copy_code',
  OTP: 'url',
  FLOW: 'flow',
  CATALOG: 'catalog',
  MPM: 'mpm',
};

function renderButtons(
  buttons: TemplateButton[],
  given: Extract<SendComponent, { type: 'button' }>[],
  otpCode: string | undefined,
): RenderedButton[] {
  for (const g of given) {
    const b = buttons[g.index];
    if (!b)
      throw graphErrors.badValue(
        `There is no button at index ${g.index}; the template has ${buttons.length}.`,
      );
    if (b.type === 'PHONE_NUMBER' || SUB_TYPE_OF[b.type] !== g.sub_type) {
      throw graphErrors.templateParamFormat(
        `Button ${g.index} is ${b.type}; sub_type ${g.sub_type} does not fit it.`,
      );
    }
    if (given.filter((o) => o.index === g.index).length > 1) {
      throw graphErrors.badValue(`Button ${g.index} is given twice.`);
    }
  }
  return buttons.map((b, index) => {
    const params = given.find((g) => g.index === index)?.parameters ?? [];
    const one = <T extends ButtonParam['type']>(
      type: T,
      required: boolean,
    ): Extract<ButtonParam, { type: T }> | undefined => {
      if (params.length > 1)
        throw graphErrors.templateParamCount(
          `Button ${index} takes one parameter; ${params.length} were given.`,
        );
      const p = params[0];
      if (!p) {
        if (required)
          throw graphErrors.templateParamCount(`Button ${index} (${b.type}) needs a ${type} parameter.`);
        return undefined;
      }
      if (p.type !== type)
        throw graphErrors.templateParamFormat(
          `Button ${index} (${b.type}) takes a ${type} parameter, not ${p.type}.`,
        );
      return p as Extract<ButtonParam, { type: T }>;
    };
    switch (b.type) {
      case 'QUICK_REPLY':
        return { type: 'quick_reply', text: b.text, payload: one('payload', false)?.payload ?? b.text };
      case 'URL': {
        const url = b.url ?? '';
        const variable = /\{\{[^{}]*\}\}$/.test(url);
        const suffix = one('text', variable);
        if (!variable && suffix)
          throw graphErrors.templateParamCount(
            `Button ${index}'s URL has no variable; no parameter is taken.`,
          );
        const full = suffix ? url.replace(/\{\{[^{}]*\}\}$/, encodeURI(suffix.text)) : url;
        tooLong(full, LIMITS.url, `Button ${index}'s URL`);
        return { type: 'url', text: b.text, url: full };
      }
      case 'PHONE_NUMBER':
        return { type: 'phone_number', text: b.text, phone_number: b.phone_number ?? '' };
      case 'COPY_CODE': {
        const code = one('coupon_code', true)?.coupon_code ?? '';
        if ([...code].length > LIMITS.couponCode)
          throw graphErrors.badValue(
            `Button ${index}: a coupon code is at most ${LIMITS.couponCode} characters.`,
          );
        return { type: 'copy_code', text: b.text, payload: code };
      }
      case 'OTP': {
        const code = one('text', false)?.text ?? otpCode ?? '';
        return { type: 'otp', text: b.text, payload: code };
      }
      default: {
        const action = one('action', false)?.action;
        const token = action && typeof action.flow_token === 'string' ? action.flow_token : undefined;
        const type = b.type === 'FLOW' ? 'flow' : b.type === 'CATALOG' ? 'catalog' : 'mpm';
        return { type, text: b.text, ...(token ? { payload: token } : {}) };
      }
    }
  });
}

/** Renders an approved template with the parameters of a send. */
export function renderTemplate(t: StoredTemplate, request: SendTemplateRequest): Rendered {
  type ContentComponent = Extract<SendComponent, { type: 'header' | 'body' }>;
  const headers = request.components.filter((c): c is ContentComponent => c.type === 'header');
  const bodies = request.components.filter((c): c is ContentComponent => c.type === 'body');
  if (headers.length > 1 || bodies.length > 1)
    throw graphErrors.badValue('template.components has more than one header or body.');
  const buttonsGiven = request.components.filter(
    (c): c is Extract<SendComponent, { type: 'button' }> => c.type === 'button',
  );
  const find = <T extends TemplateComponent['type']>(type: T) =>
    t.components.find((c): c is Extract<TemplateComponent, { type: T }> => c.type === type);

  const out: Rendered = { body: '' };
  const header = renderHeader(find('HEADER'), headers[0], t.parameter_format);
  if (header) out.header = header;

  const bodyParams = bodies[0]?.parameters ?? [];
  let otpCode: string | undefined;
  if (t.category === 'AUTHENTICATION') {
    const auth = authenticationTexts(t.components);
    out.body = fill(auth.body, 'POSITIONAL', bodyParams, 'The body');
    const first = bodyParams[0];
    otpCode = first?.type === 'text' ? first.text : undefined;
    if (auth.footer) out.footer = auth.footer;
  } else {
    out.body = fill(find('BODY')?.text ?? '', t.parameter_format, bodyParams, 'The body');
    const footer = find('FOOTER')?.text;
    if (footer) out.footer = footer;
  }
  tooLong(out.body, LIMITS.body, 'The body');

  const buttons = find('BUTTONS')?.buttons ?? [];
  if (buttons.length === 0 && buttonsGiven.length > 0) {
    throw graphErrors.templateParamCount('The template has no buttons; button parameters were given.');
  }
  if (buttons.length > 0) out.buttons = renderButtons(buttons, buttonsGiven, otpCode);
  return out;
}
