/** Row to wire shape for short links, and the little public page a link opens. */
import type { LinkResolution, LinkSource, LinkView } from '@parley/protocol';
import type { LinkWithCount } from './links.repo.js';

export const linkUrl = (base: string, code: string) => `${base}/c/${encodeURIComponent(code)}`;
/** What the QR code encodes: the link, marked so that opening it counts as a QR scan. */
export const qrTarget = (base: string, code: string) => `${linkUrl(base, code)}?src=qr`;

export function presentLink(row: LinkWithCount, base: string): LinkView {
  const url = linkUrl(base, row.code);
  return {
    code: row.code,
    url,
    qr_png_url: `${url}/qr.png`,
    qr_svg_url: `${url}/qr.svg`,
    text: row.text,
    phone_number_id: row.phone_number_id,
    chats_started: row.chats_started,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export function chatUrl(phone: string, text: string, source: LinkSource): string {
  const q = new URLSearchParams({ phone, text });
  if (source === 'qr') q.set('src', 'qr');
  return `parley://chat?${q.toString()}`;
}

export function presentResolution(
  input: Omit<LinkResolution, 'chat_url'>,
  source: LinkSource,
): LinkResolution & { source: LinkSource } {
  return { ...input, chat_url: chatUrl(input.phone, input.text, source), source };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.4rem}.v{color:#1E88E5}blockquote{background:#f2f2f2;border-radius:.5rem;padding:.75rem;margin:1rem 0;white-space:pre-wrap}' +
  'a.b{display:inline-block;background:#43A047;color:#fff;padding:.6rem 1.2rem;border-radius:1.5rem;text-decoration:none}' +
  'img{display:block;width:12rem;height:12rem;margin:1.5rem 0}';

/** The page a browser gets for `/c/{code}`: who the chat is with, the text, an app link, the QR. */
export function linkPage(r: LinkResolution): string {
  const name = escapeHtml(r.business_name);
  const badge = r.verified ? ' <span class="v" title="Verified business">&#10004;</span>' : '';
  const text = r.text ? `<blockquote>${escapeHtml(r.text)}</blockquote>` : '';
  // Relative, so the page works behind any prefix the public URL has.
  const code = escapeHtml(encodeURIComponent(r.code));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Chat with ${name}</title><style>${PAGE_STYLE}</style></head>
<body><h1>Chat with ${name}${badge}</h1>
<p>${escapeHtml(r.phone)} &middot; a business hosted on Parley</p>
${text}<p><a class="b" href="${escapeHtml(r.chat_url)}">Open the chat in Parley</a></p>
<img src="${code}/qr.svg" alt="QR code of this link">
</body></html>
`;
}

export function notFoundPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link not found</title><style>${PAGE_STYLE}</style></head>
<body><h1>This link does not lead anywhere</h1><p>It may have been deleted by the business.</p></body></html>
`;
}
