// The panels. Each takes the API's answer (as produced by samla-projector's views) and a
// context {orgName(id), shared}, and fills its container. Rendering is pure DOM from
// data: a language switch re-renders from the last answers without asking the server.

import { $, bar, fill, h } from './dom.js';
import {
  formatDay,
  formatDuration,
  formatNumber,
  formatShort,
  label,
  people,
  rawPeople,
  t,
} from './i18n.js';

const URGENCIES = ['critical', 'high', 'normal', 'low'];
const CATEGORIES = [
  'housing',
  'health_care',
  'school_places',
  'food',
  'clothing',
  'interpretation',
  'transport',
  'legal',
  'psychosocial',
  'other',
];

/** A figure element: its text, and data-value with the raw number (or "suppressed"). */
function figure(id, count, cls = 'figure') {
  const shown = typeof count === 'number' ? { text: formatNumber(count), value: String(count) } : people(count);
  return h('span', {
    id,
    class: `${cls}${shown.value === 'suppressed' ? ' suppressed' : ''}`,
    dataset: { value: shown.value },
    text: shown.text,
  });
}

function tile(key, big, ...details) {
  return h(
    'article',
    { class: `tile tile-${key}`, 'aria-labelledby': `tile-${key}-label` },
    h('h3', { id: `tile-${key}-label`, class: 'tile-label', text: t(`tile.${key}`) }),
    h('p', { class: 'tile-figure' }, big),
    details.length ? h('ul', { class: 'tile-details' }, details.map((d) => h('li', {}, d))) : null,
  );
}

/** "12 overdue" with the count as its own figure element. */
function counted(id, key, n) {
  return [figure(id, n, 'small-figure'), ' ', t(key, { n })];
}

/** The picture: arrivals, beds, open needs by urgency, open and overdue issues, alerts. */
export function renderPicture(answer) {
  const p = answer.picture;
  const arrivals = p.arrivals;
  const beds = p.beds;
  const needs = p.needs;
  const issues = p.issues;
  const tiles = [
    tile(
      'arrivals',
      figure('fig-arrivals', arrivals.to_date),
      arrivals.latest_day
        ? [t('arrivals_latest_day', { day: formatDay(`${arrivals.latest_day}T12:00:00Z`) }), ' ', figure('fig-arrivals-latest', arrivals.latest_day_arrivals, 'small-figure')]
        : null,
      [t('awaiting_placement'), ' ', figure('fig-awaiting', arrivals.awaiting_placement, 'small-figure')],
    ),
    tile(
      'beds',
      figure('fig-beds-free', beds.free),
      [t('beds_of_capacity'), ' ', figure('fig-beds-capacity', beds.capacity, 'small-figure')],
      [figure('fig-beds-occupied', beds.occupied, 'small-figure'), ' ', t('beds_occupied', { n: beds.occupied })],
      [figure('fig-sites-open', beds.open_sites, 'small-figure'), ' ', t('open_sites', { n: beds.open_sites })],
      beds.over_capacity_sites > 0
        ? h('strong', { class: 'warn' }, t('sites_over_capacity', { n: beds.over_capacity_sites }))
        : null,
    ),
    tile(
      'needs',
      figure('fig-needs-open', needs.open),
      h(
        'span',
        { class: 'chips' },
        URGENCIES.map((u) =>
          h(
            'span',
            { class: `chip urgency-${u}` },
            label('urgency', u),
            ' ',
            figure(`fig-needs-${u}`, needs.by_urgency?.[u] ?? 0, 'chip-figure'),
          ),
        ),
      ),
      counted('fig-needs-overdue', 'overdue_count', needs.overdue),
      needs.claim_expired > 0 ? counted('fig-needs-claim-expired', 'claims_expired', needs.claim_expired) : null,
      [t('people_concerned'), ' ', figure('fig-needs-people', needs.people, 'small-figure')],
    ),
    tile(
      'issues',
      figure('fig-issues-open', issues.open),
      counted('fig-issues-overdue', 'overdue_count', issues.overdue),
      counted('fig-issues-unacknowledged', 'unacknowledged_count', issues.unacknowledged),
    ),
    tile('alerts', figure('fig-alerts', p.active_alerts)),
  ];
  fill($('picture-tiles'), tiles);
}

/** Housing per site: capacity, occupied, reserved and free as a bar and as numbers. */
export function renderSites(answer) {
  const sites = [...answer.items].sort(
    (a, b) => Number(a.status === 'closed') - Number(b.status === 'closed') || b.capacity - a.capacity || a.id.localeCompare(b.id),
  );
  const totals = answer.totals;
  fill(
    $('sites-summary'),
    t('sites_summary', {
      n: totals.sites,
      open: totals.open_sites,
      capacity: totals.capacity,
      occupied: totals.occupied,
      free: totals.free,
    }),
  );
  if (sites.length === 0) {
    fill($('sites-list'), h('p', { class: 'empty', text: t('no_sites') }));
    return;
  }
  const rows = sites.map((site) => {
    const used = site.occupied + site.reserved;
    const numbers = t('site_numbers', {
      occupied: site.occupied,
      reserved: site.reserved,
      free: site.free,
      capacity: site.capacity,
    });
    return h(
      'li',
      { class: `site${site.status === 'closed' ? ' closed' : ''}`, dataset: { site: site.id } },
      h(
        'div',
        { class: 'site-head' },
        h('span', { class: 'site-name', text: site.name ?? site.id }),
        site.status ? h('span', { class: `badge status-${site.status}`, text: label('site_status', site.status) }) : null,
        site.kind ? h('span', { class: 'muted', text: label('site_kind', site.kind) }) : null,
      ),
      bar(
        [
          { value: site.occupied, cls: 'occupied', label: t('legend_occupied') },
          { value: site.reserved, cls: 'reserved', label: t('legend_reserved') },
          { value: site.free, cls: 'free', label: t('legend_free') },
        ],
        site.capacity,
        numbers,
      ),
      h(
        'p',
        { class: 'site-numbers' },
        numbers,
        site.over_capacity
          ? h('strong', { class: 'warn', text: ` ${t('over_capacity_by', { n: used - site.capacity })}` })
          : null,
      ),
    );
  });
  fill($('sites-list'), h('ul', { class: 'sites' }, rows));
}

/** Open needs by category and urgency: a table, totals in the last row and column. */
export function renderNeeds(answer) {
  const items = answer.items.filter((n) => ['open', 'claimed', 'met_partly'].includes(n.status));
  const matrix = new Map();
  const overdue = new Map();
  for (const need of items) {
    const category = need.category ?? 'other';
    if (!matrix.has(category)) matrix.set(category, Object.fromEntries(URGENCIES.map((u) => [u, 0])));
    if (need.urgency) matrix.get(category)[need.urgency] += 1;
    if (need.overdue) overdue.set(category, (overdue.get(category) ?? 0) + 1);
  }
  // Vocabulary order; a category this page does not know (a newer server) goes last.
  const rank = (c) => (CATEGORIES.includes(c) ? CATEGORIES.indexOf(c) : CATEGORIES.length);
  const categories = [...matrix.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (categories.length === 0) {
    fill($('needs-table'), h('p', { class: 'empty', text: t('no_open_needs') }));
    return;
  }
  const cell = (n, cls = '') => h('td', { class: `num ${cls}${n === 0 ? ' zero' : ''}`, text: n === 0 ? '–' : formatNumber(n) });
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col', text: t('category') }),
    URGENCIES.map((u) => h('th', { scope: 'col', class: `num urgency-${u}`, text: label('urgency', u) })),
    h('th', { scope: 'col', class: 'num', text: t('total') }),
    h('th', { scope: 'col', class: 'num', text: t('overdue') }),
  );
  const body = categories.map((category) => {
    const row = matrix.get(category);
    const total = URGENCIES.reduce((s, u) => s + row[u], 0);
    return h(
      'tr',
      { dataset: { category } },
      h('th', { scope: 'row', text: label('need_category', category) }),
      URGENCIES.map((u) => cell(row[u], `urgency-${u}`)),
      cell(total, 'total'),
      cell(overdue.get(category) ?? 0, 'overdue'),
    );
  });
  const columnTotal = (u) => categories.reduce((s, c) => s + matrix.get(c)[u], 0);
  const foot = h(
    'tr',
    {},
    h('th', { scope: 'row', text: t('total') }),
    URGENCIES.map((u) => cell(columnTotal(u), `urgency-${u}`)),
    cell(items.length, 'total'),
    cell([...overdue.values()].reduce((s, n) => s + n, 0), 'overdue'),
  );
  const truncated = answer.total > answer.items.length;
  fill(
    $('needs-table'),
    h(
      'table',
      { class: 'matrix' },
      h('caption', { class: 'visually-hidden', text: t('needs_caption') }),
      h('thead', {}, head),
      h('tbody', {}, body),
      h('tfoot', {}, foot),
    ),
    truncated ? h('p', { class: 'muted', text: t('needs_truncated', { n: answer.items.length, total: answer.total }) }) : null,
  );
}

/** Open and overdue issues per responsible organisation, and the oldest open issues. */
export function renderIssues(answer, ctx) {
  const byOrg = Object.entries(answer.by_org ?? {}).sort(
    ([, a], [, b]) => b.overdue - a.overdue || b.open - a.open || (b.oldest_age_seconds ?? 0) - (a.oldest_age_seconds ?? 0),
  );
  if (byOrg.length === 0) {
    fill($('issues-by-org'), h('p', { class: 'empty', text: t('no_open_issues') }));
  } else {
    fill(
      $('issues-by-org'),
      h(
        'table',
        { class: 'issues-table' },
        h('caption', { class: 'visually-hidden', text: t('issues_caption') }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', text: t('organisation') }),
            h('th', { scope: 'col', class: 'num', text: t('open') }),
            h('th', { scope: 'col', class: 'num', text: t('overdue') }),
            h('th', { scope: 'col', class: 'num', text: t('unacknowledged') }),
            h('th', { scope: 'col', class: 'num', text: t('escalated') }),
            h('th', { scope: 'col', text: t('oldest') }),
          ),
        ),
        h(
          'tbody',
          {},
          byOrg.map(([org, s]) =>
            h(
              'tr',
              { dataset: { org }, class: s.overdue > 0 ? 'has-overdue' : '' },
              h('th', { scope: 'row', text: ctx.orgName(org) }),
              h('td', { class: 'num', text: formatNumber(s.open) }),
              h('td', { class: `num${s.overdue > 0 ? ' warn' : ''}`, text: formatNumber(s.overdue) }),
              h('td', { class: 'num', text: formatNumber(s.unacknowledged) }),
              h('td', { class: 'num', text: formatNumber(s.escalated) }),
              h('td', { text: formatDuration(s.oldest_age_seconds) }),
            ),
          ),
        ),
      ),
    );
  }
  const open = answer.items
    .filter((i) => i.status !== 'resolved')
    .sort((a, b) => Number(b.overdue) - Number(a.overdue) || (b.age_seconds ?? 0) - (a.age_seconds ?? 0))
    .slice(0, 8);
  fill(
    $('issues-list'),
    open.length === 0
      ? null
      : h(
          'ul',
          { class: 'issue-list' },
          open.map((issue) =>
            h(
              'li',
              { class: issue.overdue ? 'overdue' : '', dataset: { issue: issue.id } },
              h(
                'div',
                { class: 'issue-head' },
                issue.overdue ? h('span', { class: 'badge overdue', text: t('overdue_badge') }) : null,
                issue.severity ? h('span', { class: `badge severity-${issue.severity}`, text: label('severity', issue.severity) }) : null,
                h('span', { class: 'issue-org', text: ctx.orgName(issue.responsible) }),
                h('span', { class: 'muted', text: ` · ${label('issue_category', issue.category)} · ${t('age', { age: formatDuration(issue.age_seconds) })}` }),
                issue.escalation_level > 0 ? h('span', { class: 'badge escalated', text: t('escalation_level', { n: issue.escalation_level }) }) : null,
              ),
              issue.summary ? h('p', { class: 'issue-summary', text: issue.summary }) : null,
            ),
          ),
        ),
  );
}

/** The latest situation reports, newest period first. */
export function renderReports(answer, ctx) {
  const reports = [...(answer.situation_reports ?? [])]
    .sort((a, b) => Date.parse(b.period_to) - Date.parse(a.period_to) || b.report_seq - a.report_seq)
    .slice(0, 5);
  if (reports.length === 0) {
    fill($('reports-list'), h('p', { class: 'empty', text: t('no_reports') }));
    return;
  }
  const count = (key, value, id) =>
    value === null || value === undefined
      ? null
      : h('li', {}, t(key), ' ', figure(id, value, 'small-figure'));
  fill(
    $('reports-list'),
    h(
      'ul',
      { class: 'reports' },
      reports.map((r) =>
        h(
          'li',
          { class: 'report', dataset: { report: r.id, seq: r.report_seq } },
          h(
            'div',
            { class: 'report-head' },
            h('span', { class: 'report-org', text: ctx.orgName(r.reported_by) }),
            h('span', { text: ` · ${t('report_number', { n: r.number })}` }),
            h('span', { class: 'badge', text: label('report_version', r.version) }),
            h('span', { class: 'muted', text: ` ${formatShort(r.period_from)} – ${formatShort(r.period_to)}` }),
          ),
          h('p', { class: 'report-summary', text: r.summary }),
          h(
            'ul',
            { class: 'report-counts' },
            count('arrivals_this_period', r.counts?.arrivals_this_period, `report-${r.id}-arrivals-period`),
            count('arrivals_to_date', r.counts?.arrivals_to_date, `report-${r.id}-arrivals`),
            count('awaiting_placement', r.counts?.awaiting_placement, `report-${r.id}-awaiting`),
            count('unaccompanied_minors', r.counts?.unaccompanied_minors_to_date, `report-${r.id}-minors`),
          ),
        ),
      ),
    ),
  );
}

/** One timeline line's detail, translated from the event's kind and fields. */
function eventDetail(item, ctx) {
  const p = item.event?.payload ?? {};
  const n = (v) => (v === null || v === undefined ? '' : formatNumber(v));
  const count = (v) => rawPeople(v, ctx.shared)?.text ?? '';
  switch (item.kind) {
    case 'need_raised':
      return t('detail.need_raised', {
        category: label('need_category', p.category),
        quantity: n(p.quantity),
        unit: label('unit', p.unit),
        urgency: label('urgency', p.urgency),
      });
    case 'need_met':
      return t('detail.need_met', { quantity: n(p.quantity), fulfilment: label('fulfilment', p.fulfilment) });
    case 'capacity_declared':
      return t('detail.beds', { n: p.beds });
    case 'occupancy_reported':
      return t('detail.occupancy', { occupied: n(p.occupied), reserved: n(p.reserved) });
    case 'site_status_changed':
      return label('site_status', p.site_status);
    case 'site_registered':
      return p.name ?? '';
    case 'housing_offered':
      return t('detail.housing_offered', { beds: n(p.beds), units: n(p.units) });
    case 'issue_raised':
      return t('detail.issue_raised', {
        org: ctx.orgName(p.addressed_to),
        category: label('issue_category', p.category),
        severity: label('severity', p.severity),
      });
    case 'issue_escalated':
      return t('escalation_level', { n: p.level });
    case 'situation_reported':
      return t('report_number', { n: p.number });
    case 'arrivals_reported':
      return p.counts?.arrivals_this_period === undefined
        ? ''
        : t('detail.arrivals', { count: count(p.counts.arrivals_this_period) });
    case 'resource_offered':
      return `${n(p.quantity)} ${label('unit', p.unit)} · ${label('resource_category', p.category)}`;
    case 'incident_phase_changed':
      return label('phase', p.phase);
    case 'organisation_joined':
      return p.name ?? '';
    case 'alert_issued':
      return p.headline ?? '';
    case 'meeting_scheduled':
      return `${p.forum ?? ''} · ${formatShort(p.starts_at)}`;
    case 'decision_recorded':
      return p.body ?? '';
    case 'action_assigned':
      return ctx.orgName(p.assigned_org);
    case 'service_capacity_reported':
      return `${label('service', p.service)}: ${n(p.available - p.used)} / ${n(p.available)}`;
    default:
      return '';
  }
}

/**
 * The timeline, newest first. `sense` picks the time shown first: when it was recorded
 * (as known) or when it happened; a late report shows both.
 */
export function renderTimeline(items, ctx, sense = 'known') {
  if (items.length === 0) {
    fill($('timeline-list'), h('li', { class: 'empty', text: t('no_events') }));
    return;
  }
  fill(
    $('timeline-list'),
    items.map((item) => {
      const recorded = Date.parse(item.recorded_at);
      const occurred = Date.parse(item.occurred_at);
      const late = Math.abs(recorded - occurred) > 15 * 60 * 1000;
      const main = sense === 'happened' ? item.occurred_at : item.recorded_at;
      const other = sense === 'happened' ? t('recorded_at', { time: formatShort(item.recorded_at) }) : t('occurred_at', { time: formatShort(item.occurred_at) });
      const detail = eventDetail(item, ctx);
      return h(
        'li',
        { class: 'event', dataset: { seq: item.seq, kind: item.kind } },
        h('time', { datetime: main, text: formatShort(main) }),
        h(
          'div',
          { class: 'event-body' },
          h('span', { class: 'event-org', text: ctx.orgName(item.org) }),
          ' ',
          h('span', { class: 'event-kind', text: label('kind', item.kind) }),
          detail ? h('span', { class: 'event-detail', text: ` · ${detail}` }) : null,
          h('span', { class: 'event-aggregate muted', text: ` · ${item.aggregate?.id ?? ''}` }),
          late ? h('span', { class: 'late muted', text: ` (${other})` }) : null,
        ),
      );
    }),
  );
}

/** The network: who joined, as what. */
export function renderNetwork(answer) {
  const orgs = [...(answer.organisations ?? [])].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
  fill(
    $('network-list'),
    orgs.map((org) =>
      h(
        'li',
        { dataset: { org: org.id }, class: org.member ? '' : 'left' },
        h('span', { class: 'org-name', text: org.name ?? org.id }),
        org.org_type ? h('span', { class: 'muted', text: ` · ${label('org_type', org.org_type)}` }) : null,
        org.member ? null : h('span', { class: 'muted', text: ` · ${t('left_network')}` }),
      ),
    ),
  );
}

/** The incident's heading: title, phase, areas. */
export function renderIncident(incident, picture) {
  const title = incident?.title ?? picture?.picture?.title ?? incident?.id ?? '';
  fill($('incident-title'), title || t('app_name'));
  const phase = incident?.phase ?? picture?.picture?.phase;
  fill($('incident-phase'), phase ? h('span', { class: `badge phase-${phase}`, text: label('phase', phase) }) : null);
  const areas = incident?.areas ?? picture?.picture?.areas ?? [];
  fill($('incident-areas'), areas.length ? t('areas', { areas: areas.join(', ') }) : '');
}

