// Languages: messages from i18n-<lang>.json, plurals through Intl.PluralRules, numbers,
// dates and durations through Intl, always in Swedish time (Europe/Stockholm) whatever
// the screen's own time zone.
//
// A message is a string with {placeholders}, or an object of plural forms
// ({"one": "…", "other": "…"}, Ukrainian also "few" and "many") chosen by the number in
// {n}. English is loaded too, as the fallback for a message a language lacks.

export const LANGUAGES = ['sv', 'en', 'uk'];
export const TIME_ZONE = 'Europe/Stockholm';
const LOCALES = { sv: 'sv-SE', en: 'en-GB', uk: 'uk-UA' };
const STORAGE_KEY = 'samla.lang';

const catalogues = {};
let current = 'sv';
let formats = null;

async function catalogue(lang) {
  if (!catalogues[lang]) {
    const response = await fetch(`/assets/i18n-${lang}.json`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`messages for ${lang}: HTTP ${response.status}`);
    catalogues[lang] = await response.json();
  }
  return catalogues[lang];
}

/** The language to start with: the last choice, else the browser's, else Swedish. */
export function preferredLanguage() {
  let stored = null;
  try {
    stored = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage refused (a locked-down wall screen): fall through.
  }
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'sv';
}

/** Loads and switches to `lang`, remembering the choice. */
export async function setLanguage(lang) {
  const chosen = LANGUAGES.includes(lang) ? lang : 'sv';
  await Promise.all([catalogue('en'), catalogue(chosen)]);
  current = chosen;
  const locale = LOCALES[chosen];
  formats = {
    plural: new Intl.PluralRules(locale),
    number: new Intl.NumberFormat(locale),
    dateTime: new Intl.DateTimeFormat(locale, {
      timeZone: TIME_ZONE,
      dateStyle: 'medium',
      timeStyle: 'short',
    }),
    short: new Intl.DateTimeFormat(locale, {
      timeZone: TIME_ZONE,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }),
    time: new Intl.DateTimeFormat(locale, {
      timeZone: TIME_ZONE,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }),
    day: new Intl.DateTimeFormat(locale, {
      timeZone: TIME_ZONE,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
    }),
    units: {},
  };
  document.documentElement.lang = chosen;
  try {
    window.localStorage.setItem(STORAGE_KEY, chosen);
  } catch {
    // Not remembered; the page still switches.
  }
  return chosen;
}

export function language() {
  return current;
}

/** The message `key` with `vars` filled in; plural messages pick their form by `vars.n`. */
export function t(key, vars = {}) {
  let message = catalogues[current]?.[key] ?? catalogues.en?.[key];
  if (message === undefined) return key;
  if (typeof message === 'object') {
    const form = formats.plural.select(Number(vars.n ?? 0));
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    return typeof value === 'number' ? formatNumber(value) : String(value);
  });
}

/** Whether a message exists (for vocabularies a newer server may extend). */
export function has(key) {
  return catalogues[current]?.[key] !== undefined || catalogues.en?.[key] !== undefined;
}

/** A vocabulary value's label, e.g. label('urgency', 'high'); the raw value if unknown. */
export function label(vocabulary, value) {
  if (value === null || value === undefined) return '';
  const key = `${vocabulary}.${value}`;
  return has(key) ? t(key) : String(value).replaceAll('_', ' ');
}

export function formatNumber(n) {
  return formats ? formats.number.format(n) : String(n);
}

function toDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** 12 mars 2026 14:05 */
export function formatDateTime(value) {
  const date = toDate(value);
  return date ? formats.dateTime.format(date) : '';
}

/** tis 10 mars 14:05 */
export function formatShort(value) {
  const date = toDate(value);
  return date ? formats.short.format(date) : '';
}

/** 14:05:33 */
export function formatTime(value) {
  const date = toDate(value);
  return date ? formats.time.format(date) : '';
}

/** tis 10 mars */
export function formatDay(value) {
  const date = toDate(value);
  return date ? formats.day.format(date) : '';
}

function unit(name, n) {
  const key = name;
  if (!formats.units[key]) {
    formats.units[key] = new Intl.NumberFormat(LOCALES[current], {
      style: 'unit',
      unit: name,
      unitDisplay: 'long',
    });
  }
  return formats.units[key].format(n);
}

/** An age or a duration in the two largest units: "3 dagar 4 timmar", "12 minutes". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return '';
  let rest = Math.max(0, Math.floor(Number(seconds) / 60));
  const days = Math.floor(rest / 1440);
  rest -= days * 1440;
  const hours = Math.floor(rest / 60);
  const minutes = rest - hours * 60;
  if (days > 0) return hours > 0 ? `${unit('day', days)} ${unit('hour', hours)}` : unit('day', days);
  if (hours > 0) return minutes > 0 ? `${unit('hour', hours)} ${unit('minute', minutes)}` : unit('hour', hours);
  return unit('minute', minutes);
}

/**
 * A count of people as the API sends it: a number, or {"suppressed": true, "below": 5}
 * for a small count a shared view may not show. The text is then "fewer than 5", never
 * a number; `value` is what tests and styles key on.
 */
export function people(count) {
  if (count === null || count === undefined) return { text: '–', value: 'none' };
  if (typeof count === 'object' && count.suppressed) {
    return { text: t('fewer_than', { n: count.below }), value: 'suppressed', below: count.below };
  }
  return { text: formatNumber(Number(count)), value: String(count) };
}

/**
 * The same rule for a count read from a raw event (the timeline shows event payloads):
 * in a shared view a count of people below the threshold is shown as "fewer than N".
 */
export function rawPeople(count, shared, threshold = 5) {
  if (count === null || count === undefined) return null;
  if (shared && count > 0 && count < threshold) return people({ suppressed: true, below: threshold });
  return people(count);
}

/** Replaces the text of every element marked data-i18n (and data-i18n-aria-label). */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.setAttribute('title', t(el.dataset.i18nTitle));
  }
}
