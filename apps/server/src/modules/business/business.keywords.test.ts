import { describe, expect, it } from 'vitest';
import {
  compileRules,
  KeywordRule,
  type KeywordRuleEntry,
  type KeywordRuleInput,
  matchRules,
  normalizeText,
} from './business.keywords.js';

const reply = { type: 'reply', text: 'Thanks, we will get back to you.' } as const;

function entry(
  id: string,
  rule: Partial<KeywordRuleInput> & Pick<KeywordRuleInput, 'keywords'>,
): KeywordRuleEntry {
  return { id, rule: { match: 'contains', action: reply, ...rule } };
}

const ids = (matched: readonly KeywordRuleEntry[]) => matched.map((m) => m.id);

describe('matchRules', () => {
  it('matches exact against the whole normalised message', () => {
    const rules = [entry('r', { match: 'exact', keywords: ['opening hours'] })];
    expect(ids(matchRules(rules, '  Opening   HOURS '))).toEqual(['r']);
    expect(ids(matchRules(rules, 'opening hours?'))).toEqual([]);
    expect(ids(matchRules(rules, 'your opening hours'))).toEqual([]);
  });

  it('matches contains anywhere, even inside words', () => {
    const rules = [entry('r', { match: 'contains', keywords: ['refund'] })];
    expect(ids(matchRules(rules, 'I want my REFUNDS now'))).toEqual(['r']);
    expect(ids(matchRules(rules, 'I want my money back'))).toEqual([]);
  });

  it('matches starts_with at the beginning only', () => {
    const rules = [entry('r', { match: 'starts_with', keywords: ['order #'] })];
    expect(ids(matchRules(rules, ' Order #1234 is late'))).toEqual(['r']);
    expect(ids(matchRules(rules, 'my order #1234 is late'))).toEqual([]);
  });

  it('matches word only on letter and digit boundaries', () => {
    const rules = [entry('r', { match: 'word', keywords: ['price'] })];
    expect(ids(matchRules(rules, 'price?'))).toEqual(['r']);
    expect(ids(matchRules(rules, 'What is the (price), please'))).toEqual(['r']);
    expect(ids(matchRules(rules, 'prices are high'))).toEqual([]);
    expect(ids(matchRules(rules, 'pricey'))).toEqual([]);
    expect(ids(matchRules(rules, 'price2'))).toEqual([]);
    expect(ids(matchRules(rules, 'überprice'))).toEqual([]);
    // A later occurrence can still be a whole word after an earlier one that was not.
    expect(ids(matchRules(rules, 'prices, or the price'))).toEqual(['r']);
  });

  it('matches multi-word phrases and keywords with non-word edges in word mode', () => {
    const rules = [
      entry('phrase', { match: 'word', keywords: ['gift card'] }),
      entry('symbol', { match: 'word', keywords: ['c++'] }),
    ];
    expect(ids(matchRules(rules, 'Do you sell Gift  Cards?'))).toEqual([]);
    expect(ids(matchRules(rules, 'a gift card, please'))).toEqual(['phrase']);
    expect(ids(matchRules(rules, 'jobs in C++!'))).toEqual(['symbol']);
    expect(ids(matchRules(rules, 'abc++'))).toEqual([]);
  });

  it('ignores case and accents on both sides', () => {
    const rules = [
      entry('cafe', { match: 'word', keywords: ['Café'] }),
      entry('noel', { match: 'contains', keywords: ['noel'] }),
    ];
    expect(ids(matchRules(rules, 'see you at the CAFE'))).toEqual(['cafe']);
    expect(ids(matchRules(rules, 'see you at the cafe\u0301'))).toEqual(['cafe']);
    expect(ids(matchRules(rules, 'Joyeux NOËL'))).toEqual(['noel']);
    expect(ids(matchRules(rules, 'İstanbul café'))).toEqual(['cafe']);
  });

  it('folds compatibility forms and Greek final sigma', () => {
    expect(normalizeText('ﬁle Ⅻ')).toBe('file xii');
    expect(ids(matchRules([entry('r', { match: 'word', keywords: ['οδοσ'] })], 'ΟΔΟΣ.'))).toEqual(['r']);
  });

  it('matches emoji, with or without the variation selector', () => {
    const rules = [
      entry('heart', { match: 'contains', keywords: ['❤️'] }),
      entry('pizza', { match: 'word', keywords: ['🍕'] }),
    ];
    expect(ids(matchRules(rules, 'love it ❤'))).toEqual(['heart']);
    expect(ids(matchRules(rules, 'one🍕please'))).toEqual(['pizza']);
    expect(ids(matchRules(rules, '😀'))).toEqual([]);
  });

  it('treats regex metacharacters in keywords literally', () => {
    const rules = [
      entry('dot', { match: 'contains', keywords: ['a.b'] }),
      entry('star', { match: 'word', keywords: ['(a+)+$'] }),
      entry('class', { match: 'exact', keywords: ['[abc]'] }),
    ];
    expect(ids(matchRules(rules, 'axb'))).toEqual([]);
    expect(ids(matchRules(rules, 'a.b'))).toEqual(['dot']);
    expect(ids(matchRules(rules, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'))).toEqual([]);
    expect(ids(matchRules(rules, 'x (a+)+$ y'))).toEqual(['star']);
    expect(ids(matchRules(rules, 'a'))).toEqual([]);
    expect(ids(matchRules(rules, '[ABC]'))).toEqual(['class']);
  });

  it('returns every enabled match in the given order, as the same entries', () => {
    const rules = [
      entry('third', { keywords: ['pizza'] }),
      entry('off', { keywords: ['pizza'], enabled: false }),
      entry('first', { keywords: ['nothing', 'pizza'], action: { type: 'label', label_id: 'lbl_food' } }),
      entry('other', { keywords: ['burger'] }),
      entry('second', {
        keywords: ['pizza'],
        enabled: true,
        action: { type: 'assign', agent_account_id: 'acc_1' },
      }),
    ];
    const matched = matchRules(rules, 'Pizza please');
    expect(ids(matched)).toEqual(['third', 'first', 'second']);
    expect(matched[1]).toBe(rules[2]);
    expect(matchRules(rules, '')).toEqual([]);
  });

  it('gives the same answers from compiled rules, reusable across messages', () => {
    const rules = [entry('a', { match: 'word', keywords: ['hi'] }), entry('b', { keywords: ['help'] })];
    const compiled = compileRules(rules);
    for (const text of ['Hi!', 'hi, help', 'this', 'HELP ME']) {
      expect(ids(matchRules(compiled, text))).toEqual(ids(matchRules(rules, text)));
    }
    expect(ids(matchRules(compiled, 'hi, help'))).toEqual(['a', 'b']);
  });
});

describe('KeywordRule', () => {
  const base = { match: 'contains', keywords: ['hello'], action: reply };

  it('trims keywords and defaults enabled to true', () => {
    expect(KeywordRule.parse({ ...base, keywords: ['  hello  '] })).toEqual({
      ...base,
      keywords: ['hello'],
      enabled: true,
    });
  });

  it('reports invalid fields with their paths', () => {
    const paths = (input: unknown) => {
      const result = KeywordRule.safeParse(input);
      expect(result.success).toBe(false);
      return result.error?.issues.map((issue) => issue.path);
    };
    expect(paths({ ...base, keywords: [] })).toEqual([['keywords']]);
    expect(paths({ ...base, keywords: Array.from({ length: 21 }, (_, i) => `k${i}`) })).toEqual([
      ['keywords'],
    ]);
    expect(paths({ ...base, keywords: ['ok', '   ', 'x'.repeat(101)] })).toEqual([
      ['keywords', 1],
      ['keywords', 2],
    ]);
    // Only combining marks: nothing left after normalisation, so it would match everything.
    expect(paths({ ...base, keywords: ['\u0301\u0308'] })).toEqual([['keywords', 0]]);
    expect(paths({ ...base, match: 'regex' })).toEqual([['match']]);
    expect(paths({ ...base, action: { type: 'reply', text: '' } })).toEqual([['action', 'text']]);
    expect(paths({ ...base, action: { type: 'reply', text: 'x'.repeat(4097) } })).toEqual([
      ['action', 'text'],
    ]);
    expect(paths({ ...base, action: { type: 'label' } })).toEqual([['action', 'label_id']]);
    expect(paths({ ...base, action: { type: 'forward' } })).toEqual([['action', 'type']]);
  });
});
