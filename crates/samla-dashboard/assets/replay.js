// Replay: the picture at any moment of the incident, as it was known then (the log up to
// a sequence, or up to a recorded time) or as it happened (events by when they
// occurred). A slider over the incident's time, buttons to step by event, hour and day,
// an unmistakable banner, and one click back to live.
//
// The as-of API (see the query parameters at_seq, as_of, sense) computes every figure;
// this module only decides the point and keeps the list of the incident's events, which
// the timeline panel shows up to that point.

import { $, fill } from './dom.js';
import { getJSON, incidentPath } from './api.js';
import { formatDateTime, t } from './i18n.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
/** The most timeline pages (of 500 events) loaded for the slider. */
const MAX_PAGES = 40;

function iso(ms) {
  return new Date(ms).toISOString();
}

export class Replay {
  /** `onPoint(point)` is called whenever the point changes (null: back to live). */
  constructor(onPoint) {
    this.onPoint = onPoint;
    this.point = null;
    this.known = []; // timeline items by seq
    this.happened = []; // the same, by (occurred_at, seq)
    this.loadedFor = null;
    this.truncated = false;
    this.pending = 0;
    this.sliderTimer = null;
    this.bind();
  }

  active() {
    return this.point !== null;
  }

  bind() {
    $('replay-slider').addEventListener('input', () => this.slide(false));
    $('replay-slider').addEventListener('change', () => this.slide(true));
    for (const radio of document.querySelectorAll('input[name="sense"]')) {
      radio.addEventListener('change', () => radio.checked && this.setSense(radio.value));
    }
    $('step-prev-day').addEventListener('click', () => this.stepTime(-DAY));
    $('step-prev-hour').addEventListener('click', () => this.stepTime(-HOUR));
    $('step-prev-event').addEventListener('click', () => this.stepEvent(-1));
    $('step-next-event').addEventListener('click', () => this.stepEvent(1));
    $('step-next-hour').addEventListener('click', () => this.stepTime(HOUR));
    $('step-next-day').addEventListener('click', () => this.stepTime(DAY));
  }

  /** Loads the incident's events (newest first from the API, kept oldest first). */
  async load(incident, status) {
    const key = `${incident}/${status ?? ''}`;
    if (this.loadedFor === key) return;
    const items = [];
    let before = null;
    let pages = 0;
    for (;;) {
      const answer = await getJSON(incidentPath(incident, 'timeline'), { limit: 500, before, status });
      items.push(...answer.items);
      pages += 1;
      before = answer.next_before;
      if (before === null || before === undefined) break;
      if (pages >= MAX_PAGES) {
        this.truncated = true;
        break;
      }
    }
    this.setItems(items);
    this.loadedFor = key;
  }

  setItems(items) {
    const bySeq = new Map(items.map((item) => [item.seq, item]));
    this.known = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    for (const item of this.known) {
      item.recordedMs = Date.parse(item.recorded_at);
      item.occurredMs = Date.parse(item.occurred_at);
    }
    this.happened = [...this.known].sort((a, b) => a.occurredMs - b.occurredMs || a.seq - b.seq);
  }

  /** A live event arrived: keep the list whole, and count it while replaying. */
  add(item) {
    if (this.loadedFor !== null && !this.known.some((k) => k.seq === item.seq)) {
      this.setItems([...this.known, item]);
    }
    if (this.active()) {
      this.pending += 1;
      this.renderBanner();
    }
  }

  forget() {
    this.loadedFor = null;
    this.known = [];
    this.happened = [];
  }

  /** Starts replaying at `initial` (from the address) or at the latest event. */
  async enter(incident, status, initial = null) {
    this.showControls(true);
    $('replay-banner').dataset.state = 'loading';
    this.point = initial ?? { sense: 'known', seq: null, at: Date.now(), atIso: iso(Date.now()) };
    this.renderBanner();
    try {
      await this.load(incident, status);
    } catch (error) {
      this.showError(error);
      return;
    }
    if (!this.active()) return; // left while loading
    $('replay-panel').dataset.ready = 'true';
    if (!initial) {
      const last = this.known[this.known.length - 1];
      this.point = last
        ? { sense: 'known', seq: last.seq, at: last.recordedMs, atIso: last.recorded_at }
        : this.point;
    }
    this.pending = 0;
    this.emit();
  }

  /** Stops replaying without asking for the live picture (signing out, another incident). */
  reset() {
    this.point = null;
    this.pending = 0;
    clearTimeout(this.sliderTimer);
    this.showControls(false);
  }

  leave() {
    this.point = null;
    this.pending = 0;
    clearTimeout(this.sliderTimer);
    this.showControls(false);
    this.onPoint(null);
  }

  showControls(on) {
    $('replay-panel').hidden = !on;
    $('replay-banner').hidden = !on;
    $('replay-toggle').setAttribute('aria-expanded', String(on));
    document.body.classList.toggle('replaying', on);
    if (!on) {
      delete $('replay-panel').dataset.ready;
      delete $('replay-banner').dataset.params;
      $('replay-banner').dataset.state = 'live';
    }
  }

  /** The query parameters of the current point (the as-of contract). */
  params() {
    const p = this.point;
    if (!p) return {};
    if (p.sense === 'known' && p.seq !== null) return { at_seq: p.seq };
    return { as_of: p.atIso, sense: p.sense };
  }

  range() {
    const now = Date.now();
    let min = Infinity;
    let max = now;
    for (const item of this.known) {
      min = Math.min(min, item.recordedMs, item.occurredMs);
      max = Math.max(max, item.recordedMs, item.occurredMs);
    }
    return { min: Number.isFinite(min) ? min : now - DAY, max };
  }

  /** Index of the last event inside the point, in the sense's order (-1: before all). */
  position() {
    const p = this.point;
    if (p.sense === 'known') {
      let k = -1;
      for (let i = 0; i < this.known.length; i += 1) {
        const inside = p.seq !== null ? this.known[i].seq <= p.seq : this.known[i].recordedMs <= p.at;
        if (!inside) break;
        k = i;
      }
      return k;
    }
    let k = -1;
    for (let i = 0; i < this.happened.length && this.happened[i].occurredMs <= p.at; i += 1) k = i;
    return k;
  }

  /** The events inside the point, newest first (the timeline panel while replaying). */
  visibleItems(limit = 25) {
    if (!this.point) return [];
    const k = this.position();
    const list = this.point.sense === 'known' ? this.known : this.happened;
    return list.slice(Math.max(0, k + 1 - limit), k + 1).reverse();
  }

  setSense(sense) {
    if (!this.point || this.point.sense === sense) return;
    // Keep the moment; a sequence point becomes its recorded time.
    this.point = { sense, seq: null, at: this.point.at, atIso: this.point.atIso };
    this.emit();
  }

  stepTime(delta) {
    if (!this.point) return;
    const { min, max } = this.range();
    const at = Math.min(max, Math.max(min, this.point.at + delta));
    this.point = { ...this.point, seq: null, at, atIso: iso(at) };
    this.emit();
  }

  stepEvent(direction) {
    if (!this.point) return;
    const k = this.position();
    if (this.point.sense === 'known') {
      const target = this.known[k + direction];
      if (!target) return;
      this.point = { sense: 'known', seq: target.seq, at: target.recordedMs, atIso: target.recorded_at };
    } else {
      const list = this.happened;
      let target = null;
      if (direction > 0) {
        target = list.find((item) => item.occurredMs > this.point.at) ?? null;
      } else if (k >= 0) {
        const current = list[k].occurredMs;
        target = [...list.slice(0, k)].reverse().find((item) => item.occurredMs < current) ?? null;
        if (!target) {
          // Before the first event: an empty picture.
          const at = current - 1000;
          this.point = { sense: 'happened', seq: null, at, atIso: iso(at) };
          this.emit();
          return;
        }
      }
      if (!target) return;
      this.point = { sense: 'happened', seq: null, at: target.occurredMs, atIso: target.occurred_at };
    }
    this.emit();
  }

  slide(commit) {
    if (!this.point) return;
    const at = Number($('replay-slider').value) * 60 * 1000;
    this.point = { ...this.point, seq: null, at, atIso: iso(at) };
    this.renderControls();
    clearTimeout(this.sliderTimer);
    // While dragging, ask the server at most every 250 ms.
    this.sliderTimer = setTimeout(() => this.emit(), commit ? 0 : 250);
  }

  emit() {
    $('replay-banner').dataset.state = 'loading';
    this.renderControls();
    this.renderBanner();
    this.onPoint(this.point);
  }

  renderControls() {
    const p = this.point;
    if (!p) return;
    const { min, max } = this.range();
    const slider = $('replay-slider');
    slider.min = String(Math.floor(min / 60000));
    slider.max = String(Math.ceil(max / 60000));
    slider.step = '1';
    slider.value = String(Math.round(p.at / 60000));
    slider.setAttribute('aria-valuetext', formatDateTime(p.at));
    fill($('replay-time'), formatDateTime(p.at));
    for (const radio of document.querySelectorAll('input[name="sense"]')) {
      radio.checked = radio.value === p.sense;
    }
    const k = this.position();
    const list = p.sense === 'known' ? this.known : this.happened;
    $('step-prev-event').disabled = k < 0;
    $('step-next-event').disabled = k >= list.length - 1;
    fill(
      $('replay-status'),
      t('replay_position', { n: k + 1, total: list.length }),
      this.truncated ? ` ${t('replay_truncated')}` : '',
    );
  }

  /** The banner; `asOf` is the answer's as_of field, once the picture arrived. */
  renderBanner(asOf = undefined) {
    const p = this.point;
    if (!p) return;
    const banner = $('replay-banner');
    const params = new URLSearchParams(Object.entries(this.params()).map(([k, v]) => [k, String(v)]));
    banner.dataset.params = params.toString();
    const when = formatDateTime(asOf?.at ?? p.at);
    const parts = [
      p.sense === 'known' ? t('replay_known_at', { time: when }) : t('replay_happened_at', { time: when }),
    ];
    if (p.seq !== null) parts.push(t('replay_after_event', { seq: String(p.seq) }));
    if (asOf && typeof asOf.events === 'number') parts.push(t('replay_events_folded', { n: asOf.events }));
    fill($('replay-banner-text'), parts.join(' · '));
    fill($('replay-banner-pending'), this.pending > 0 ? t('replay_new_events', { n: this.pending }) : '');
  }

  /** The answer for the current point arrived. */
  shown(answer) {
    const banner = $('replay-banner');
    if (answer && answer.as_of) {
      banner.dataset.state = 'shown';
      fill($('replay-banner-warning'), '');
      this.renderBanner(answer.as_of);
    } else {
      // A server without the as-of API ignores the parameters: say so, loudly.
      banner.dataset.state = 'unsupported';
      fill($('replay-banner-warning'), t('replay_unsupported'));
    }
  }

  showError(error) {
    $('replay-banner').dataset.state = 'error';
    fill($('replay-banner-warning'), t('replay_error', { message: error.message }));
  }
}
