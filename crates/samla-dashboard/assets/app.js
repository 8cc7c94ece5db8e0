// The dashboard's start and its loop: sign in, pick the incident, load the panels, follow
// the live stream and refetch what an event changed, switch languages, replay.
//
// Live updates: the stream (Server-Sent Events) sends one event per applied event, id =
// log sequence; EventSource resumes after a drop with Last-Event-ID by itself. An event
// marks the panels its aggregate feeds as dirty; dirty panels are refetched at most every
// 250 ms, with min_seq = the newest sequence seen, so the answer includes that event.

import { ApiError, getJSON, incidentPath, login, logout, whoami } from './api.js';
import { $, fill } from './dom.js';
import {
  formatNumber,
  formatTime,
  preferredLanguage,
  setLanguage,
  t,
  translateStatic,
} from './i18n.js';
import * as render from './render.js';
import { Replay } from './replay.js';

const PANELS = ['picture', 'sites', 'needs', 'issues', 'reports', 'timeline', 'network'];
/** Which panels an event on an aggregate of this type can change. */
const AFFECTS = {
  incident: ['picture', 'network'],
  org: ['network', 'picture'],
  responsibility: ['network'],
  presence: ['network'],
  meeting: ['network'],
  decision: ['network'],
  action: ['network'],
  site: ['picture', 'sites'],
  offer: ['picture', 'sites'],
  need: ['picture', 'needs'],
  resource: ['needs'],
  issue: ['picture', 'issues'],
  report: ['picture', 'reports'],
  arrivals: ['picture', 'reports'],
  service: ['reports'],
  hospital: ['reports'],
  alert: ['picture', 'reports'],
  information_request: ['reports'],
};
const DEBOUNCE_MS = 250;
/** Ages and "overdue" move with the clock even without events. */
const CLOCK_REFRESH_MS = 60 * 1000;

const state = {
  principal: null,
  viewer: null,
  incidents: [],
  incident: null,
  status: null,
  answers: {},
  lastSeq: 0,
  requests: {},
  generation: 0,
  frame: null,
  source: null,
  reopenDelay: 1000,
  reopenTimer: null,
  dirty: new Set(),
  dirtyTimer: null,
  orgNames: new Map(),
  chainAt: 0,
  chainTimer: null,
};
/** The chain head is fetched at most this often (it is computed from the log). */
const CHAIN_REFRESH_MS = 5 * 1000;

const replay = new Replay(onReplayPoint);

function ctx() {
  return {
    orgName: (id) => (id ? state.orgNames.get(id) ?? id : '–'),
    shared: state.viewer === 'share' || state.principal?.kind === 'share',
  };
}

// --- the address: #incident=…&at_seq=… (a replay point can be shared as a link) -------

function readHash() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ''));
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.incident) params.set('incident', state.incident);
  if (state.status) params.set('status', state.status);
  for (const [key, value] of Object.entries(replay.params())) params.set(key, String(value));
  const text = params.toString();
  window.history.replaceState(null, '', text ? `#${text}` : window.location.pathname);
}

function pointFromHash(hash) {
  const seq = Number(hash.get('at_seq'));
  if (hash.has('at_seq') && Number.isInteger(seq) && seq >= 0) {
    return { sense: 'known', seq, at: Date.now(), atIso: new Date().toISOString() };
  }
  const at = Date.parse(hash.get('as_of') ?? '');
  if (!Number.isNaN(at)) {
    const sense = hash.get('sense') === 'happened' ? 'happened' : 'known';
    return { sense, seq: null, at, atIso: hash.get('as_of') };
  }
  return null;
}

// --- header ---------------------------------------------------------------------------

function showViewer() {
  const el = $('viewer');
  const viewer = state.viewer ?? principalAsViewer(state.principal);
  if (!viewer) {
    fill(el, '');
    return;
  }
  if (viewer === 'share') {
    el.dataset.viewer = 'share';
    fill(el, t('shared_view'));
  } else if (viewer === 'operator') {
    el.dataset.viewer = 'operator';
    fill(el, t('operator_view'));
  } else {
    el.dataset.viewer = viewer.org;
    fill(el, t('viewing_as', { org: ctx().orgName(viewer.org) }));
  }
}

function principalAsViewer(principal) {
  if (!principal) return null;
  if (principal.kind === 'share') return 'share';
  if (principal.kind === 'operator') return 'operator';
  return principal.org ? { org: principal.org } : null;
}

function setConnection(status) {
  const el = $('connection');
  el.dataset.status = status;
  // In replay the stream stays connected, but the figures shown are not live.
  fill(el, t(status === 'live' && replay.active() ? 'conn_paused' : `conn_${status}`));
}

function noteFrame(answer) {
  if (answer.viewer !== undefined) state.viewer = answer.viewer;
  state.frame = { seq: answer.applied_seq ?? 0, state: answer.state, at: new Date() };
  showUpdated();
}

/** "Updated 14:05:33 · log position 1234", and whether the read models lag. */
function showUpdated() {
  const frame = state.frame;
  if (!frame) {
    fill($('updated'), '');
    return;
  }
  const notReady = frame.state && frame.state !== 'ready';
  fill(
    $('updated'),
    t('updated_at', { time: formatTime(frame.at), seq: String(frame.seq) }),
    notReady ? ` · ${t(`state_${frame.state}`)}` : '',
  );
}

function showNotice(text) {
  const el = $('notice');
  el.hidden = !text;
  fill(el, text ?? '');
}

function updateTitle() {
  const incident = state.incidents.find((i) => i.id === state.incident);
  const base = incident?.title ?? state.incident ?? t('app_name');
  document.title = replay.active() ? `${t('replay_title_prefix')} · ${base} – Samla` : `${base} – Samla`;
}

// --- panels -----------------------------------------------------------------------------

function panelRequest(panel) {
  switch (panel) {
    case 'picture':
      return ['picture', {}];
    case 'sites':
      return ['sites', {}];
    case 'needs':
      return ['needs', { open: true, limit: 1000 }];
    case 'issues':
      return ['issues', { open: true, limit: 1000 }];
    case 'reports':
      return ['reports', {}];
    case 'timeline':
      return ['timeline', { limit: 25 }];
    default:
      return ['network', {}];
  }
}

function draw(panel) {
  const answer = state.answers[panel];
  if (panel === 'timeline' && replay.active()) {
    render.renderTimeline(replay.visibleItems(), ctx(), replay.point.sense);
    return;
  }
  if (!answer) return;
  switch (panel) {
    case 'picture': {
      render.renderPicture(answer);
      const incident = state.incidents.find((i) => i.id === state.incident);
      render.renderIncident(incident, answer);
      showViewer();
      updateTitle();
      break;
    }
    case 'sites':
      render.renderSites(answer);
      break;
    case 'needs':
      render.renderNeeds(answer);
      break;
    case 'issues':
      render.renderIssues(answer, ctx());
      break;
    case 'reports':
      render.renderReports(answer, ctx());
      break;
    case 'timeline':
      render.renderTimeline(answer.items, ctx(), 'known');
      break;
    case 'network':
      render.renderNetwork(answer);
      break;
    default:
      break;
  }
}

function drawAll() {
  for (const panel of PANELS) draw(panel);
  showViewer();
}

async function loadPanel(panel, params) {
  const generation = state.generation;
  const number = (state.requests[panel] ?? 0) + 1;
  state.requests[panel] = number;
  if (panel === 'timeline' && replay.active()) {
    draw('timeline');
    return;
  }
  const [what, extra] = panelRequest(panel);
  const answer = await getJSON(incidentPath(state.incident, what), { ...params, ...extra });
  // A newer request for this panel, or a change of mode, makes this answer stale.
  if (state.requests[panel] !== number || state.generation !== generation) return;
  state.answers[panel] = answer;
  noteFrame(answer);
  if (panel === 'network') {
    state.orgNames = new Map((answer.organisations ?? []).map((org) => [org.id, org.name ?? org.id]));
    // Names appear in other panels too.
    for (const other of ['issues', 'reports', 'timeline']) draw(other);
    showViewer();
  }
  draw(panel);
  if (panel === 'picture' && replay.active()) replay.shown(answer);
}

// --- the log's chain head: shown so anyone can note it and check the log later ---------

function scheduleChain() {
  if (state.chainTimer !== null) return;
  const wait = Math.max(0, state.chainAt + CHAIN_REFRESH_MS - Date.now());
  state.chainTimer = setTimeout(async () => {
    state.chainTimer = null;
    state.chainAt = Date.now();
    try {
      showChain(await getJSON('/v1/chain'));
    } catch {
      // The head is a courtesy: the figures' own errors are shown where they occur.
    }
  }, wait);
}

function showChain(head) {
  const box = $('chain');
  box.dataset.seq = String(head.seq);
  box.dataset.link = head.link;
  fill($('chain-link'), head.link.slice(0, 16));
  fill($('chain-seq'), t('chain_at', { seq: formatNumber(head.seq) }));
  box.hidden = false;
}

async function refresh(panels) {
  if (!state.incident) return;
  scheduleChain();
  const params = { status: state.status };
  if (replay.active()) Object.assign(params, replay.params());
  else if (state.lastSeq > 0) params.min_seq = state.lastSeq;
  const results = await Promise.allSettled([...panels].map((panel) => loadPanel(panel, params)));
  const failed = results.find((r) => r.status === 'rejected');
  if (!failed) {
    showNotice(null);
    return;
  }
  const error = failed.reason;
  if (error instanceof ApiError && error.status === 401) {
    signedOut();
    return;
  }
  if (replay.active()) replay.showError(error);
  showNotice(t('load_error', { message: error.message }));
}

function markDirty(panels) {
  for (const panel of panels) state.dirty.add(panel);
  if (state.dirtyTimer === null) {
    state.dirtyTimer = setTimeout(() => {
      state.dirtyTimer = null;
      const dirty = [...state.dirty];
      state.dirty.clear();
      if (!replay.active()) refresh(dirty);
    }, DEBOUNCE_MS);
  }
}

// --- the live stream --------------------------------------------------------------------

function closeLive() {
  clearTimeout(state.reopenTimer);
  if (state.source) state.source.close();
  state.source = null;
}

function openLive() {
  closeLive();
  const url = new URL(incidentPath(state.incident, 'live'), window.location.origin);
  if (state.status) url.searchParams.set('status', state.status);
  // Start right after what the panels show; the server sends anything newer from the log.
  url.searchParams.set('from_seq', String(state.lastSeq + 1));
  const source = new EventSource(url);
  state.source = source;
  setConnection('connecting');
  source.addEventListener('open', () => {
    state.reopenDelay = 1000;
    setConnection('live');
  });
  source.addEventListener('applied', (message) => onApplied(message));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (signed out, server gone): check the session, then try again later.
      setConnection('offline');
      state.reopenTimer = setTimeout(reopen, state.reopenDelay);
      state.reopenDelay = Math.min(state.reopenDelay * 2, 30000);
    } else {
      setConnection('reconnecting');
    }
  });
}

async function reopen() {
  try {
    const session = await whoami();
    if (!session) {
      signedOut();
      return;
    }
  } catch {
    // The server is still away: try again later.
    state.reopenTimer = setTimeout(reopen, state.reopenDelay);
    return;
  }
  openLive();
  refresh(PANELS);
}

function onApplied(message) {
  let item;
  try {
    item = JSON.parse(message.data);
  } catch {
    return;
  }
  const seq = Number(message.lastEventId || item.seq);
  if (Number.isFinite(seq)) state.lastSeq = Math.max(state.lastSeq, seq);
  $('updated').dataset.lastEvent = String(state.lastSeq);
  replay.add(item);
  if (replay.active()) return;
  markDirty([...(AFFECTS[item.aggregate?.type] ?? PANELS), 'timeline']);
}

// --- replay -------------------------------------------------------------------------------

function onReplayPoint(point) {
  state.generation += 1;
  setConnection($('connection').dataset.status ?? 'connecting');
  writeHash();
  updateTitle();
  refresh(PANELS);
  if (point === null) {
    $('replay-toggle').focus();
  }
}

// --- session and start --------------------------------------------------------------------

function showLogin(message = null) {
  closeLive();
  $('dashboard').hidden = true;
  $('session-controls').hidden = true;
  $('login').hidden = false;
  fill($('login-error'), message ?? '');
  fill($('viewer'), '');
  fill($('connection'), '');
  delete $('connection').dataset.status;
  state.frame = null;
  showUpdated();
  $('token-input').focus();
}

function signedOut() {
  replay.reset();
  state.principal = null;
  state.viewer = null;
  showLogin(t('session_ended'));
}

async function start(session) {
  state.principal = session?.principal ?? null;
  state.viewer = null;
  state.answers = {};
  state.lastSeq = 0;
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('session-controls').hidden = false;
  showViewer();
  const hash = readHash();
  state.status = hash.get('status') || null;
  let incidents;
  try {
    incidents = (await getJSON('/v1/incidents', { status: state.status })).items ?? [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signedOut();
      return;
    }
    showNotice(t('load_error', { message: error.message }));
    return;
  }
  state.incidents = incidents;
  if (incidents.length === 0) {
    showNotice(t('no_incident'));
    return;
  }
  const wanted = hash.get('incident');
  const newest = [...incidents].sort((a, b) => Date.parse(b.started_at ?? 0) - Date.parse(a.started_at ?? 0))[0];
  state.incident = incidents.some((i) => i.id === wanted) ? wanted : newest.id;
  const select = $('incident-select');
  fill(
    select,
    incidents.map((i) => {
      const option = document.createElement('option');
      option.value = i.id;
      option.textContent = i.title ?? i.id;
      return option;
    }),
  );
  select.value = state.incident;
  $('incident-chooser').hidden = incidents.length < 2;
  await showIncident(pointFromHash(hash));
}

async function showIncident(point = null) {
  state.generation += 1;
  state.answers = {};
  state.lastSeq = 0;
  replay.forget();
  writeHash();
  if (point) {
    // Replay from the address: the stream runs meanwhile, counting what is new.
    await refresh(['network']);
    openLive();
    await replay.enter(state.incident, state.status, point);
    return;
  }
  await refresh(PANELS);
  // The stream starts after the oldest position any panel reflects: nothing is missed,
  // at worst a panel is refetched once more.
  const applied = Object.values(state.answers).map((answer) => answer.applied_seq ?? 0);
  if (applied.length > 0) state.lastSeq = Math.max(state.lastSeq, Math.min(...applied));
  openLive();
}

function bind() {
  $('lang-select').addEventListener('change', async (event) => {
    await setLanguage(event.target.value);
    translateStatic();
    drawAll();
    if (replay.active()) {
      replay.renderControls();
      replay.renderBanner();
    }
    const status = $('connection').dataset.status;
    if (status) setConnection(status);
    showUpdated();
    updateTitle();
  });
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('token-input');
    const token = input.value.trim();
    if (!token) return;
    fill($('login-error'), '');
    try {
      const session = await login(token);
      input.value = '';
      await start(session);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) fill($('login-error'), t('login_invalid'));
      else if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
        fill($('login-error'), t('login_unsupported'));
      } else fill($('login-error'), t('load_error', { message: error.message }));
    }
  });
  $('logout').addEventListener('click', async () => {
    await logout();
    replay.reset();
    state.principal = null;
    state.viewer = null;
    state.incident = null;
    writeHash();
    showLogin();
  });
  $('replay-toggle').addEventListener('click', () => {
    if (replay.active()) replay.leave();
    else replay.enter(state.incident, state.status);
  });
  $('back-to-live').addEventListener('click', () => replay.leave());
  $('incident-select').addEventListener('change', async (event) => {
    state.incident = event.target.value;
    replay.reset();
    closeLive();
    await showIncident();
  });
  // Ages and overdue flags follow the clock.
  setInterval(() => {
    if (state.incident && !replay.active() && !document.hidden) refresh(['picture', 'needs', 'issues']);
  }, CLOCK_REFRESH_MS);
}

async function boot() {
  document.documentElement.dataset.boot = Math.random().toString(36).slice(2);
  // A fault in the page itself is shown, not swallowed: a wall screen has no console.
  window.addEventListener('error', (event) => showNotice(t('page_error', { message: event.message })));
  window.addEventListener('unhandledrejection', (event) =>
    showNotice(t('page_error', { message: String(event.reason?.message ?? event.reason) })),
  );
  const lang = await setLanguage(preferredLanguage());
  $('lang-select').value = lang;
  translateStatic();
  bind();
  let session;
  try {
    session = await whoami();
  } catch (error) {
    showLogin(t('load_error', { message: error.message }));
    return;
  }
  if (session) await start(session);
  else showLogin();
}

boot();
