/**
 * Validation of message templates as Meta validates them at creation and edit (the
 * management API, `POST /{waba-id}/message_templates` and `POST /{template-id}`). Pure: it
 * takes the request body and answers the normalised definition or throws the GraphError Meta
 * answers (code 100, a subcode where one is known, and always `error_data.details` naming the
 * field and the rule).
 *
 * Variables are `{{1}}`…`{{n}}` (POSITIONAL) or `{{name}}` (NAMED). Positional ones number
 * 1..n without gaps, each once; in the body none may stand at the very start or end, and two
 * may not be adjacent (only spaces between them): Meta refuses such templates because the
 * variables would carry the whole message.
 */
import { GraphError } from '../cloud-api/index.js';

export const CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export type Category = (typeof CATEGORIES)[number];
export type ParameterFormat = 'POSITIONAL' | 'NAMED';
export type HeaderFormat = 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION';
export const BUTTON_TYPES = [
  'QUICK_REPLY',
  'URL',
  'PHONE_NUMBER',
  'COPY_CODE',
  'OTP',
  'FLOW',
  'CATALOG',
  'MPM',
] as const;
export type ButtonType = (typeof BUTTON_TYPES)[number];

/** Meta's template languages (the classic list of the Cloud API reference). */
export const LANGUAGES: ReadonlySet<string> = new Set(
  (
    'af sq ar az bn bg ca zh_CN zh_HK zh_TW hr cs da nl en en_GB en_US et fil fi fr de el gu ha he hi hu ' +
    'id ga it ja kn kk ko lo lv lt mk ms ml mr nb fa pl pt_BR pt_PT pa ro ru sr sk sl es es_AR es_ES ' +
    'es_MX sw sv ta te th tr uk ur uz vi zu'
  ).split(' '),
);

export const LIMITS = {
  name: 512,
  headerText: 60,
  body: 1024,
  footer: 60,
  buttons: 10,
  buttonText: 25,
  urlButtons: 2,
  phoneButtons: 1,
  url: 2000,
  couponCode: 15,
  codeExpirationMinutes: 90,
} as const;

export interface NamedExample {
  param_name: string;
  example: string;
}

export interface HeaderComponent {
  type: 'HEADER';
  format: HeaderFormat;
  text?: string;
  example?: { header_text?: string[]; header_text_named_params?: NamedExample[]; header_handle?: string[] };
}
export interface BodyComponent {
  type: 'BODY';
  text?: string;
  add_security_recommendation?: boolean;
  example?: { body_text?: string[][]; body_text_named_params?: NamedExample[] };
}
export interface FooterComponent {
  type: 'FOOTER';
  text?: string;
  code_expiration_minutes?: number;
}
export interface TemplateButton {
  type: ButtonType;
  text: string;
  url?: string;
  phone_number?: string;
  example?: string[];
  otp_type?: 'COPY_CODE' | 'ONE_TAP' | 'ZERO_TAP';
  autofill_text?: string;
  package_name?: string;
  signature_hash?: string;
  flow_id?: string;
  flow_name?: string;
  flow_action?: string;
  navigate_screen?: string;
}
export interface ButtonsComponent {
  type: 'BUTTONS';
  buttons: TemplateButton[];
}
export type TemplateComponent = HeaderComponent | BodyComponent | FooterComponent | ButtonsComponent;

export interface TemplateDefinition {
  name: string;
  language: string;
  category: Category;
  parameter_format: ParameterFormat;
  allow_category_change: boolean;
  components: TemplateComponent[];
}

/** Meta's subcodes for template creation errors (third-party copies of Meta's table). */
const SUBCODE = { tooLong: 2388040, headerFormat: 2388047, exists: 2388024 } as const;

const invalid = (details: string, subcode?: number) =>
  new GraphError(100, 'Invalid parameter', 400, { details, ...(subcode === undefined ? {} : { subcode }) });

export const templateErrors = {
  invalid,
  tooLong: (what: string, max: number) =>
    invalid(`${what} is longer than the ${max} characters allowed.`, SUBCODE.tooLong),
  headerFormat: (details: string) => invalid(details, SUBCODE.headerFormat),
  exists: (name: string, language: string) =>
    invalid(
      `There is already ${language} content for the template "${name}". Edit that template, or create one with another name.`,
      SUBCODE.exists,
    ),
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{{…}}` tokens of a text, with their positions. */
const TOKEN = /\{\{([^{}]*)\}\}/g;
const POSITIONAL = /^[1-9]\d*$/;
const NAMED = /^[a-z_][a-z0-9_]*$/;

export interface Variables {
  /** Variable names in order of appearance ('1', '2', … or names). */
  names: string[];
}

/**
 * The variables of a text, checked against the format. `where` names the field in errors;
 * `edges` refuses a variable at the very start or end (the body's rule).
 */
export function variablesOf(text: string, format: ParameterFormat, where: string, edges = false): Variables {
  const names: string[] = [];
  const spans: { start: number; end: number }[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const inner = match[1] ?? '';
    const ok = format === 'POSITIONAL' ? POSITIONAL.test(inner) : NAMED.test(inner);
    if (!ok) {
      throw invalid(
        format === 'POSITIONAL'
          ? `${where}: "{{${inner}}}" is not a variable; positional variables are {{1}}, {{2}}, … (or set parameter_format NAMED).`
          : `${where}: "{{${inner}}}" is not a named variable; names are lowercase letters, digits and underscores, starting with a letter or underscore.`,
      );
    }
    if (names.includes(inner)) throw invalid(`${where}: the variable {{${inner}}} appears more than once.`);
    names.push(inner);
    spans.push({ start: match.index, end: match.index + match[0].length });
  }
  // Braces left over after removing the variables are malformed variables ({{1}, {1}}, {{{1}}}).
  if (/\{\{|\}\}/.test(text.replace(TOKEN, ''))) {
    throw invalid(
      `${where}: a variable is malformed; write it as {{1}}${format === 'NAMED' ? ' or {{name}}' : ''}.`,
    );
  }
  if (format === 'POSITIONAL') {
    const numbers = names.map(Number).sort((a, b) => a - b);
    numbers.forEach((n, i) => {
      if (n !== i + 1) {
        throw invalid(
          `${where}: variables must be numbered {{1}} to {{${numbers.length}}} without gaps; {{${i + 1}}} is missing.`,
        );
      }
    });
  }
  if (edges && spans.length > 0) {
    const first = spans[0];
    const last = spans[spans.length - 1];
    if (first && text.slice(0, first.start).trim() === '') {
      throw invalid(`${where}: the text may not start with a variable; put some words before it.`);
    }
    if (last && text.slice(last.end).trim() === '') {
      throw invalid(`${where}: the text may not end with a variable; put some words after it.`);
    }
  }
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1];
    const b = spans[i];
    if (a && b && text.slice(a.end, b.start).trim() === '') {
      throw invalid(`${where}: two variables may not be next to each other; put some words between them.`);
    }
  }
  return { names };
}

function str(v: unknown, field: string, required = true): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw invalid(`${field} is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`${field} must be a string.`);
  return v;
}

function upper<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  const s = str(v, field);
  const u = s?.toUpperCase();
  if (!u || !(allowed as readonly string[]).includes(u)) {
    throw invalid(`${field} must be one of ${allowed.join(', ')}${s === undefined ? '' : `, not "${s}"`}.`);
  }
  return u as T;
}

function maxLength(text: string, max: number, what: string): void {
  if ([...text].length > max) throw templateErrors.tooLong(what, max);
}

/** Checks that the examples cover exactly the variables; answers them in variable order. */
function positionalExample(example: unknown, count: number, where: string): string[] {
  if (
    !Array.isArray(example) ||
    example.length !== count ||
    !example.every((e) => typeof e === 'string' && e)
  ) {
    throw invalid(`${where} must give one non-empty sample per variable (${count}).`);
  }
  return example as string[];
}

function namedExample(example: unknown, names: string[], where: string): NamedExample[] {
  if (!Array.isArray(example)) throw invalid(`${where} is required: one {param_name, example} per variable.`);
  const out: NamedExample[] = [];
  for (const e of example) {
    if (!isRecord(e) || typeof e.param_name !== 'string' || typeof e.example !== 'string' || !e.example) {
      throw invalid(`${where}: each entry is {"param_name": "...", "example": "..."}.`);
    }
    out.push({ param_name: e.param_name, example: e.example });
  }
  const given = out.map((e) => e.param_name).sort();
  if (given.join(',') !== [...names].sort().join(',')) {
    throw invalid(`${where} must give exactly the variables ${names.map((n) => `{{${n}}}`).join(', ')}.`);
  }
  return out;
}

function header(c: Record<string, unknown>, format: ParameterFormat, category: Category): HeaderComponent {
  if (category === 'AUTHENTICATION') throw invalid('Authentication templates have no HEADER component.');
  const headerFormat = upper<HeaderFormat>(c.format, 'HEADER format', [
    'TEXT',
    'IMAGE',
    'VIDEO',
    'DOCUMENT',
    'LOCATION',
  ]);
  const example = isRecord(c.example) ? c.example : undefined;
  if (headerFormat === 'TEXT') {
    const text = str(c.text, 'HEADER text') ?? '';
    if (!text.trim()) throw templateErrors.headerFormat('A TEXT header needs a non-empty text.');
    if (/[\n\r]/.test(text)) throw templateErrors.headerFormat('A TEXT header may not contain new lines.');
    maxLength(text, LIMITS.headerText, 'The header text');
    const { names } = variablesOf(text, format, 'HEADER text');
    if (names.length > 1) throw templateErrors.headerFormat('A TEXT header may have at most one variable.');
    const out: HeaderComponent = { type: 'HEADER', format: 'TEXT', text };
    if (names.length === 1) {
      out.example =
        format === 'POSITIONAL'
          ? { header_text: positionalExample(example?.header_text, 1, 'HEADER example.header_text') }
          : {
              header_text_named_params: namedExample(
                example?.header_text_named_params,
                names,
                'HEADER example.header_text_named_params',
              ),
            };
    }
    return out;
  }
  if (c.text !== undefined) throw templateErrors.headerFormat(`A ${headerFormat} header has no text.`);
  if (headerFormat === 'LOCATION') return { type: 'HEADER', format: 'LOCATION' };
  const handle = example?.header_handle;
  if (!Array.isArray(handle) || handle.length === 0 || !handle.every((h) => typeof h === 'string' && h)) {
    throw templateErrors.headerFormat(
      `A ${headerFormat} header needs a sample: example.header_handle, the handle of an uploaded sample file.`,
    );
  }
  return { type: 'HEADER', format: headerFormat, example: { header_handle: handle as string[] } };
}

function body(c: Record<string, unknown>, format: ParameterFormat, category: Category): BodyComponent {
  if (category === 'AUTHENTICATION') {
    // Meta writes the body of an authentication template itself (the code and, if asked, a
    // security recommendation); a business cannot supply text.
    if (c.text !== undefined)
      throw invalid('An AUTHENTICATION template body has no text; Meta-style fixed text is used.');
    if (c.add_security_recommendation !== undefined && typeof c.add_security_recommendation !== 'boolean') {
      throw invalid('BODY add_security_recommendation must be true or false.');
    }
    return { type: 'BODY', add_security_recommendation: c.add_security_recommendation === true };
  }
  const text = str(c.text, 'BODY text') ?? '';
  if (!text.trim()) throw invalid('BODY text is required and may not be empty.');
  maxLength(text, LIMITS.body, 'The body text');
  const { names } = variablesOf(text, format, 'BODY text', true);
  const out: BodyComponent = { type: 'BODY', text };
  if (names.length > 0) {
    const example = isRecord(c.example) ? c.example : undefined;
    if (format === 'POSITIONAL') {
      const rows = example?.body_text;
      if (!Array.isArray(rows) || rows.length === 0) {
        throw invalid(`BODY example.body_text is required: [[one sample per variable (${names.length})]].`);
      }
      out.example = {
        body_text: rows.map((row) => positionalExample(row, names.length, 'BODY example.body_text')),
      };
    } else {
      out.example = {
        body_text_named_params: namedExample(
          example?.body_text_named_params,
          names,
          'BODY example.body_text_named_params',
        ),
      };
    }
  }
  return out;
}

function footer(c: Record<string, unknown>, category: Category): FooterComponent {
  if (category === 'AUTHENTICATION') {
    if (c.text !== undefined)
      throw invalid('An AUTHENTICATION template footer has no text; give code_expiration_minutes.');
    const minutes = c.code_expiration_minutes;
    if (minutes === undefined) return { type: 'FOOTER' };
    if (
      typeof minutes !== 'number' ||
      !Number.isInteger(minutes) ||
      minutes < 1 ||
      minutes > LIMITS.codeExpirationMinutes
    ) {
      throw invalid(
        `FOOTER code_expiration_minutes must be a whole number from 1 to ${LIMITS.codeExpirationMinutes}.`,
      );
    }
    return { type: 'FOOTER', code_expiration_minutes: minutes };
  }
  if (c.code_expiration_minutes !== undefined) {
    throw invalid('FOOTER code_expiration_minutes is only for AUTHENTICATION templates.');
  }
  const text = str(c.text, 'FOOTER text') ?? '';
  if (!text.trim()) throw invalid('FOOTER text may not be empty.');
  maxLength(text, LIMITS.footer, 'The footer text');
  if (/\{\{|\}\}/.test(text)) throw invalid('FOOTER text may not contain variables.');
  return { type: 'FOOTER', text };
}

function button(b: unknown, i: number, format: ParameterFormat, category: Category): TemplateButton {
  const where = `BUTTONS buttons[${i}]`;
  if (!isRecord(b)) throw invalid(`${where} must be an object.`);
  const type = upper<ButtonType>(b.type, `${where} type`, BUTTON_TYPES);
  if ((type === 'OTP') !== (category === 'AUTHENTICATION')) {
    throw invalid(
      type === 'OTP'
        ? `${where}: OTP buttons are only for AUTHENTICATION templates.`
        : `${where}: an AUTHENTICATION template has exactly one OTP button and no other.`,
    );
  }
  const defaultText: Partial<Record<ButtonType, string>> = {
    COPY_CODE: 'Copy offer code',
    OTP: 'Copy code',
    CATALOG: 'View catalog',
  };
  const text = str(b.text, `${where} text`, defaultText[type] === undefined) ?? defaultText[type] ?? '';
  if (!text.trim()) throw invalid(`${where} text may not be empty.`);
  maxLength(text, LIMITS.buttonText, `${where} text`);
  if (/\{\{|\}\}/.test(text)) throw invalid(`${where} text may not contain variables.`);
  const out: TemplateButton = { type, text };
  if (type === 'URL') {
    const url = str(b.url, `${where} url`) ?? '';
    maxLength(url, LIMITS.url, `${where} url`);
    if (!/^https?:\/\/[^\s/]+\.[^\s]*$/i.test(url)) throw invalid(`${where} url must be an http(s) URL.`);
    const tokens = [...url.matchAll(TOKEN)];
    if (tokens.length > 1) throw invalid(`${where} url may have at most one variable.`);
    const token = tokens[0];
    if (token) {
      const ok = format === 'POSITIONAL' ? token[1] === '1' : NAMED.test(token[1] ?? '');
      if (!ok || token.index + token[0].length !== url.length) {
        throw invalid(
          `${where} url: its one variable must be ${format === 'POSITIONAL' ? '{{1}}' : 'a {{name}}'} at the very end of the URL.`,
        );
      }
      out.example = positionalExample(b.example, 1, `${where} example`);
    } else if (/\{\{|\}\}/.test(url)) {
      throw invalid(`${where} url: a variable is malformed.`);
    }
    out.url = url;
  } else if (type === 'PHONE_NUMBER') {
    const phone = str(b.phone_number, `${where} phone_number`) ?? '';
    if (!/^\+?[1-9]\d{5,19}$/.test(phone))
      throw invalid(`${where} phone_number must be a phone number with its country code.`);
    out.phone_number = phone;
  } else if (type === 'COPY_CODE') {
    const example = b.example;
    const code = Array.isArray(example) ? example[0] : example;
    if (typeof code !== 'string' || !code)
      throw invalid(`${where} example (a sample offer code) is required.`);
    maxLength(code, LIMITS.couponCode, `${where} example`);
    out.example = [code];
  } else if (type === 'OTP') {
    out.otp_type = upper(b.otp_type, `${where} otp_type`, ['COPY_CODE', 'ONE_TAP', 'ZERO_TAP'] as const);
    if (out.otp_type !== 'COPY_CODE') {
      out.package_name = str(b.package_name, `${where} package_name`);
      out.signature_hash = str(b.signature_hash, `${where} signature_hash`);
      const autofill = str(b.autofill_text, `${where} autofill_text`, false);
      if (autofill !== undefined) out.autofill_text = autofill;
    }
  } else if (type === 'FLOW') {
    const id = str(b.flow_id, `${where} flow_id`, false);
    const name = str(b.flow_name, `${where} flow_name`, false);
    if (id === undefined && name === undefined)
      throw invalid(`${where}: a FLOW button needs flow_id or flow_name.`);
    if (id !== undefined) out.flow_id = id;
    if (name !== undefined) out.flow_name = name;
    const action = str(b.flow_action, `${where} flow_action`, false);
    if (action !== undefined) out.flow_action = action;
    const screen = str(b.navigate_screen, `${where} navigate_screen`, false);
    if (screen !== undefined) out.navigate_screen = screen;
  }
  return out;
}

function buttons(c: Record<string, unknown>, format: ParameterFormat, category: Category): ButtonsComponent {
  const list = c.buttons;
  if (!Array.isArray(list) || list.length === 0)
    throw invalid('BUTTONS buttons must list at least one button.');
  if (list.length > LIMITS.buttons) throw invalid(`A template may have at most ${LIMITS.buttons} buttons.`);
  const out = list.map((b, i) => button(b, i, format, category));
  const count = (t: ButtonType) => out.filter((b) => b.type === t).length;
  if (count('URL') > LIMITS.urlButtons)
    throw invalid(`A template may have at most ${LIMITS.urlButtons} URL buttons.`);
  if (count('PHONE_NUMBER') > LIMITS.phoneButtons)
    throw invalid('A template may have at most one PHONE_NUMBER button.');
  if (count('COPY_CODE') > 1) throw invalid('A template may have at most one COPY_CODE button.');
  if (category === 'AUTHENTICATION' && out.length !== 1) {
    throw invalid('An AUTHENTICATION template has exactly one OTP button.');
  }
  // Quick replies and the other buttons form two groups: WhatsApp shows them apart.
  const kinds = out.map((b) => b.type === 'QUICK_REPLY');
  const switches = kinds.filter((k, i) => i > 0 && k !== kinds[i - 1]).length;
  if (switches > 1) {
    throw invalid('Quick reply buttons must be grouped together, before or after the other buttons.');
  }
  return { type: 'BUTTONS', buttons: out };
}

/** Validates the components of a template of this category and parameter format. */
export function validateComponents(
  raw: unknown,
  category: Category,
  format: ParameterFormat,
): TemplateComponent[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalid('components is required: at least a BODY.');
  const seen = new Set<string>();
  const out: TemplateComponent[] = [];
  for (const [i, c] of raw.entries()) {
    if (!isRecord(c)) throw invalid(`components[${i}] must be an object.`);
    const type = upper(c.type, `components[${i}] type`, ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'] as const);
    if (seen.has(type)) throw invalid(`A template has at most one ${type} component.`);
    seen.add(type);
    if (type === 'HEADER') out.push(header(c, format, category));
    else if (type === 'BODY') out.push(body(c, format, category));
    else if (type === 'FOOTER') out.push(footer(c, category));
    else out.push(buttons(c, format, category));
  }
  if (!seen.has('BODY')) throw invalid('A template needs a BODY component.');
  if (category === 'AUTHENTICATION' && !seen.has('BUTTONS')) {
    throw invalid('An AUTHENTICATION template needs a BUTTONS component with one OTP button.');
  }
  // Stored in display order whatever order they came in.
  const order = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'];
  return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

export function validateCategory(raw: unknown): Category {
  return upper(raw, 'category', CATEGORIES);
}

/** Validates a create request (`POST /{waba-id}/message_templates`). */
export function validateTemplate(raw: unknown): TemplateDefinition {
  if (!isRecord(raw)) throw invalid('The request body must be a JSON object.');
  const name = str(raw.name, 'name') ?? '';
  if (name.length > LIMITS.name) throw templateErrors.tooLong('name', LIMITS.name);
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw invalid('name may only contain lowercase letters, digits and underscores, and may not be empty.');
  }
  const language = str(raw.language, 'language') ?? '';
  if (!LANGUAGES.has(language))
    throw invalid(`language "${language}" is not a supported template language (e.g. en_US).`);
  const category = validateCategory(raw.category);
  const format: ParameterFormat =
    raw.parameter_format === undefined
      ? 'POSITIONAL'
      : upper(raw.parameter_format, 'parameter_format', ['POSITIONAL', 'NAMED'] as const);
  if (raw.allow_category_change !== undefined && typeof raw.allow_category_change !== 'boolean') {
    throw invalid('allow_category_change must be true or false.');
  }
  return {
    name,
    language,
    category,
    parameter_format: format,
    allow_category_change: raw.allow_category_change === true,
    components: validateComponents(raw.components, category, format),
  };
}

/** The text Meta shows in an authentication template's body and footer. */
export function authenticationTexts(components: TemplateComponent[]): { body: string; footer?: string } {
  const b = components.find((c): c is BodyComponent => c.type === 'BODY');
  const f = components.find((c): c is FooterComponent => c.type === 'FOOTER');
  const body = `{{1}} is your verification code.${b?.add_security_recommendation ? ' For your security, do not share this code.' : ''}`;
  const minutes = f?.code_expiration_minutes;
  return minutes === undefined ? { body } : { body, footer: `This code expires in ${minutes} minutes.` };
}

/** Every text a person would read in the template (review rules look for words in it). */
export function visibleText(def: Pick<TemplateDefinition, 'category' | 'components'>): string {
  const parts: string[] = [];
  for (const c of def.components) {
    if (c.type === 'BUTTONS') parts.push(...c.buttons.map((b) => b.text));
    else if (c.text) parts.push(c.text);
  }
  if (def.category === 'AUTHENTICATION') {
    const auth = authenticationTexts(def.components);
    parts.push(auth.body, auth.footer ?? '');
  }
  return parts.join('\n');
}
