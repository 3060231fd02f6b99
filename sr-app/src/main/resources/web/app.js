// The page of `sr-app serve`: plain JavaScript, no libraries, talking only to the server it came from.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  session: null,
  events: null,
  file: null,          // the chosen File
  fileSize: null,      // {width, height} as the server read it
  jobs: new Map(),     // id -> latest snapshot
  order: [],           // job ids in submission order
  history: [],         // finished jobs with a result, newest first
  shown: null,         // the job id shown in the viewer
};

// ---- small helpers ------------------------------------------------------------------------

function showMessage(text) {
  const m = $('message');
  m.textContent = text;
  m.hidden = !text;
}

function modelById(id) {
  return state.config.models.find((m) => m.id === id) || state.config.models[0];
}

function megabytes(bytes) {
  return bytes >= 10e6 ? `${(bytes / 1e6).toFixed(0)} MB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function clock(seconds) {
  if (seconds == null || !isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, body, headers: body ? { 'Content-Type': 'application/octet-stream' } : {} });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) throw new Error((data && data.error) || `the server answered ${response.status}`);
  return data;
}

// ---- start: configuration, session, event stream -----------------------------------------

async function init() {
  try {
    state.config = await api('GET', '/api/config');
  } catch (e) {
    showMessage(`Cannot reach the server: ${e.message}`);
    return;
  }
  $('device').textContent = `device: ${state.config.device}`;
  const ext = state.config.extensions;
  $('file').accept = ext.map((e) => `.${e}`).join(',');
  const names = { jpg: 'JPEG', jpeg: 'JPEG', tif: 'TIFF', tiff: 'TIFF', webp: 'WebP' };
  const formats = [...new Set(ext.map((e) => names[e] || e.toUpperCase()))];
  $('formats').textContent = `${formats.join(', ')}; at most ${(state.config.maxPixels / 1e6).toFixed(1)} megapixels and ${megabytes(state.config.maxUploadBytes)}`;
  $('history-hint').textContent = `(the server keeps the last ${state.config.keepResults})`;
  const select = $('model');
  for (const m of state.config.models) {
    const o = document.createElement('option');
    o.value = m.id;
    o.textContent = `${m.id} · ×${m.scale}${m.default ? ' (default)' : ''}`;
    o.title = `preset ${m.preset}, upscales ${m.scale}x`;
    select.appendChild(o);
  }
  select.addEventListener('change', modelChanged);
  modelChanged();
  await openSession();
}

async function openSession() {
  try {
    state.session = (await api('POST', '/api/session')).session;
  } catch (e) {
    setConnection('bad', 'no session');
    showMessage(`Cannot start a session: ${e.message}`);
    return;
  }
  const events = new EventSource(`/api/events?session=${encodeURIComponent(state.session)}`);
  state.events = events;
  events.addEventListener('open', () => { setConnection('ok', 'connected'); updateStart(); });
  events.addEventListener('job', (e) => jobUpdated(JSON.parse(e.data)));
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) {
      setConnection('bad', 'disconnected');
      showMessage('The connection to the server was lost; reload the page.');
    } else {
      setConnection('bad', 'reconnecting…');
    }
    updateStart();
  });
}

function setConnection(kind, text) {
  const c = $('connection');
  c.textContent = text;
  c.className = `pill ${kind}`;
}

function modelChanged() {
  const m = modelById($('model').value);
  $('sampler-default').textContent = `model's (${m.sampler})`;
  $('colorfix-default').textContent = `model's (${m.colorFix ? 'on' : 'off'})`;
  $('steps').placeholder = `${m.steps} (model's)`;
  $('fusion').placeholder = `${m.fusionWeight} (model's)`;
  showFileInfo();
}

// ---- choosing a file ----------------------------------------------------------------------

function showFileInfo() {
  const info = $('file-info');
  if (!state.file) {
    info.textContent = 'No image chosen';
  } else if (!state.fileSize) {
    info.textContent = `${state.file.name}`;
  } else {
    const s = modelById($('model').value).scale;
    const { width: w, height: h } = state.fileSize;
    info.textContent = `${state.file.name}: ${w}×${h} → ${w * s}×${h * s} px`;
  }
  updateStart();
}

function updateStart() {
  const connected = state.events && state.events.readyState === EventSource.OPEN;
  $('start').disabled = !(state.file && state.fileSize && connected);
}

async function chooseFile(file) {
  showMessage('');
  state.file = file;
  state.fileSize = null;
  showFileInfo();
  if (!file) return;
  if (file.size > state.config.maxUploadBytes) {
    showMessage(`${file.name}: the file is ${megabytes(file.size)}, more than the upload limit of ${megabytes(state.config.maxUploadBytes)} (serve --max-upload-mb)`);
    state.file = null;
    showFileInfo();
    return;
  }
  try {
    const info = await api('POST', `/api/inspect?name=${encodeURIComponent(file.name)}`, file);
    if (state.file !== file) return;   // another file was chosen meanwhile
    state.fileSize = { width: info.width, height: info.height };
    showFileInfo();
    showPreview(file, info.width, info.height);
  } catch (e) {
    if (state.file !== file) return;
    state.file = null;
    showFileInfo();
    showMessage(e.message);
  }
}

function setupDrop() {
  const drop = $('drop');
  $('file').addEventListener('change', (e) => chooseFile(e.target.files[0] || null));
  for (const type of ['dragenter', 'dragover']) {
    document.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const type of ['dragleave', 'drop']) {
    document.addEventListener(type, (e) => { e.preventDefault(); if (type === 'drop' || e.target === drop) drop.classList.remove('over'); });
  }
  document.addEventListener('drop', (e) => {
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) chooseFile(f);
  });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });
}

// ---- jobs ---------------------------------------------------------------------------------

async function start(e) {
  e.preventDefault();
  if (!state.file) return;
  showMessage('');
  const p = new URLSearchParams({
    session: state.session,
    name: state.file.name,
    model: $('model').value,
    sampler: $('sampler').value,
    steps: $('steps').value,
    seed: $('seed').value,
    colorFix: $('colorfix').value,
    fusionWeight: $('fusion').value,
  });
  try {
    const job = await api('POST', `/api/jobs?${p}`, state.file);
    jobUpdated(job);
  } catch (err) {
    showMessage(err.message);
  }
}

function jobUpdated(job) {
  const known = state.jobs.get(job.id);
  if (known && job.version < known.version) return;   // an answer that crossed a newer event
  if (!known) state.order.push(job.id);
  state.jobs.set(job.id, job);
  renderJob(job);
  if (job.state === 'done' && !(known && known.state === 'done')) addToHistory(job);
}

function jobText(job) {
  switch (job.state) {
    case 'queued':
      return `waiting · place ${job.place} in the queue`;
    case 'running':
      return job.phase === 'loading' ? 'loading the model…' : job.phase === 'encoding' ? 'writing the PNG…' : job.phase;
    case 'done':
      return `done in ${job.seconds.toFixed(1)} s`;
    case 'failed':
      return 'failed';
    default:
      return 'cancelled';
  }
}

function jobDetail(job) {
  const size = `${job.input.width}×${job.input.height} → ${job.output.width}×${job.output.height}`;
  if (job.state === 'running' && (job.phase === 'sampling' || job.phase === 'decoding') && job.total > 0) {
    const eta = job.etaSeconds != null ? ` · ETA ${clock(job.etaSeconds)}` : '';
    return `${job.phase} ${job.done}/${job.total} · ${job.percent.toFixed(0)}%${eta}`;
  }
  if (job.state === 'failed') return job.message || 'failed';
  if (job.state === 'cancelled') {
    const why = job.message && job.message !== 'cancelled' ? `${job.message} · ` : '';
    return job.total > 0 ? `${why}stopped at ${job.percent.toFixed(0)}%` : `${why}stopped before it began`;
  }
  if (job.state === 'done') return `${size} · ${job.description}`;
  return `${size} · ${job.settings.steps} ${job.settings.sampler} steps, seed ${job.settings.seed}`;
}

function renderJob(job) {
  const list = $('jobs');
  const empty = list.querySelector('.empty');
  if (empty) empty.remove();
  let li = list.querySelector(`li[data-id="${job.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'job';
    li.dataset.id = job.id;
    li.innerHTML = '<div class="job-head"><span class="job-name"></span>'
      + '<button type="button" class="cancel">Cancel</button></div><div class="job-state"></div>'
      + '<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div class="fill"></div></div>'
      + '<div class="job-detail"></div>';
    li.querySelector('.cancel').addEventListener('click', () => cancel(job.id));
    li.addEventListener('click', (e) => { if (!e.target.closest('button') && state.jobs.get(job.id).state === 'done') showResult(job.id); });
    list.prepend(li);
  }
  li.dataset.state = job.state;
  li.querySelector('.job-name').textContent = job.name;
  li.querySelector('.job-name').title = job.name;
  li.querySelector('.job-state').textContent = jobText(job);
  li.querySelector('.job-detail').textContent = jobDetail(job);
  const pct = job.state === 'done' ? 100 : job.percent;
  li.querySelector('.fill').style.width = `${pct}%`;
  const bar = li.querySelector('.bar');
  bar.setAttribute('aria-valuenow', String(Math.round(pct)));
  bar.dataset.percent = String(pct);
  li.querySelector('.cancel').hidden = !(job.state === 'queued' || job.state === 'running');
}

async function cancel(id) {
  try {
    jobUpdated(await api('POST', `/api/jobs/${id}/cancel?session=${encodeURIComponent(state.session)}`));
  } catch (e) {
    showMessage(e.message);
  }
}

// ---- history ------------------------------------------------------------------------------

function addToHistory(job) {
  state.history.unshift(job.id);
  const list = $('history');
  const empty = list.querySelector('.empty');
  if (empty) empty.remove();
  const li = document.createElement('li');
  li.className = 'item';
  li.dataset.id = job.id;
  const img = document.createElement('img');
  img.src = `/api/jobs/${job.id}/result.png`;
  img.alt = job.name;
  img.addEventListener('error', () => li.classList.add('expired'));
  const name = document.createElement('span');
  name.textContent = job.name;
  const detail = document.createElement('span');
  detail.textContent = `${job.output.width}×${job.output.height} · ${job.settings.steps} ${job.settings.sampler} · seed ${job.settings.seed}`;
  li.append(img, name, detail);
  li.title = `${job.name}: ${job.description}`;
  li.addEventListener('click', () => showResult(job.id));
  list.prepend(li);
  showResult(job.id);
}

// ---- the before/after viewer --------------------------------------------------------------

const view = { mode: 'empty', w: 0, h: 0, zoom: 1, x: 0, y: 0, split: 0.5, previewUrl: null };

function showPreview(file, w, h) {
  if (view.previewUrl) URL.revokeObjectURL(view.previewUrl);
  view.previewUrl = URL.createObjectURL(file);
  state.shown = null;
  markSelected();
  view.mode = 'preview';
  view.w = w;
  view.h = h;
  const before = $('before');
  before.src = view.previewUrl;
  before.classList.add('nearest');
  $('after').removeAttribute('src');
  $('after').hidden = true;
  setDownload(null);
  $('result-info').textContent = `input: ${w}×${h} (start a job to see the result beside it)`;
  layoutViewer(true);
}

function showResult(id) {
  const job = state.jobs.get(id);
  if (!job || job.state !== 'done') return;
  state.shown = id;
  markSelected();
  view.mode = 'compare';
  view.w = job.output.width;
  view.h = job.output.height;
  const after = $('after');
  after.hidden = false;
  after.src = `/api/jobs/${id}/result.png`;
  after.onerror = () => { $('result-info').textContent = `${job.name}: this result is no longer kept by the server`; };
  setBeforeImage();
  setDownload(job);
  $('result-info').textContent = `${job.name}: ${job.input.width}×${job.input.height} → ${job.output.width}×${job.output.height} · ${job.description} · ${job.seconds.toFixed(1)} s`;
  layoutViewer(true);
}

function setBeforeImage() {
  if (view.mode !== 'compare') return;
  const before = $('before');
  const bicubic = $('before-mode').value === 'bicubic';
  before.src = `/api/jobs/${state.shown}/${bicubic ? 'bicubic' : 'input'}.png`;
  before.classList.toggle('nearest', !bicubic);
}

function setDownload(job) {
  const a = $('download');
  if (!job) {
    a.removeAttribute('href');
    a.removeAttribute('download');
    a.setAttribute('aria-disabled', 'true');
    return;
  }
  const stem = job.name.includes('.') ? job.name.slice(0, job.name.lastIndexOf('.')) : job.name;
  a.href = `/api/jobs/${job.id}/result.png?download=1`;
  a.download = `${stem}_x${job.output.width / job.input.width}.png`;
  a.setAttribute('aria-disabled', 'false');
}

function markSelected() {
  for (const li of $('history').querySelectorAll('li.item')) li.classList.toggle('selected', li.dataset.id === state.shown);
}

function layoutViewer(fit) {
  const shown = view.mode !== 'empty';
  $('stage').hidden = !shown;
  $('viewer-empty').hidden = shown;
  const compare = view.mode === 'compare';
  $('divider').hidden = !compare;
  $('label-before').hidden = !compare;
  $('label-after').hidden = !compare;
  for (const img of [$('before'), $('after')]) {
    img.style.width = `${view.w}px`;
    img.style.height = `${view.h}px`;
  }
  if (fit) fitView();
  else applyView();
}

function fitView() {
  const v = $('viewer');
  const zoom = Math.min(v.clientWidth / view.w, v.clientHeight / view.h);
  view.zoom = zoom > 0 && isFinite(zoom) ? zoom : 1;
  view.x = (v.clientWidth - view.w * view.zoom) / 2;
  view.y = (v.clientHeight - view.h * view.zoom) / 2;
  applyView();
}

function zoomAt(factor, cx, cy) {
  const z = Math.min(64, Math.max(0.05, view.zoom * factor));
  view.x = cx - (cx - view.x) * (z / view.zoom);
  view.y = cy - (cy - view.y) * (z / view.zoom);
  view.zoom = z;
  applyView();
}

function applyView() {
  const v = $('viewer');
  const stage = $('stage');
  stage.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.zoom})`;
  stage.classList.toggle('pixelated', view.zoom > 1);
  $('zoom-level').textContent = view.mode === 'empty' ? '–' : `${Math.round(view.zoom * 100)}%`;
  const splitPx = view.split * v.clientWidth;
  const divider = $('divider');
  divider.style.left = `${splitPx - 1}px`;
  divider.setAttribute('aria-valuenow', String(Math.round(view.split * 100)));
  const before = $('before');
  if (view.mode === 'compare') {
    // the input shows left of the divider: clip it in image coordinates at the same zoom as the result
    const cut = Math.min(view.w, Math.max(0, (splitPx - view.x) / view.zoom));
    before.style.clipPath = `inset(0px ${view.w - cut}px 0px 0px)`;
  } else {
    before.style.clipPath = 'none';
  }
}

function setupViewer() {
  const v = $('viewer');
  let drag = null;
  v.addEventListener('pointerdown', (e) => {
    if (view.mode === 'empty' || e.button !== 0) return;
    const onDivider = e.target.closest('#divider');
    drag = { kind: onDivider ? 'split' : 'pan', x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    v.setPointerCapture(e.pointerId);
    if (!onDivider) v.classList.add('panning');
  });
  v.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (drag.kind === 'split') {
      const r = v.getBoundingClientRect();
      view.split = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    } else {
      view.x = drag.vx + e.clientX - drag.x;
      view.y = drag.vy + e.clientY - drag.y;
    }
    applyView();
  });
  const end = () => { drag = null; v.classList.remove('panning'); };
  v.addEventListener('pointerup', end);
  v.addEventListener('pointercancel', end);
  v.addEventListener('wheel', (e) => {
    if (view.mode === 'empty') return;
    e.preventDefault();
    const r = v.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  $('divider').addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowLeft' ? -0.05 : e.key === 'ArrowRight' ? 0.05 : 0;
    if (!step) return;
    e.preventDefault();
    view.split = Math.min(1, Math.max(0, view.split + step));
    applyView();
  });
  const centre = () => [v.clientWidth / 2, v.clientHeight / 2];
  $('zoom-in').addEventListener('click', () => zoomAt(1.5, ...centre()));
  $('zoom-out').addEventListener('click', () => zoomAt(1 / 1.5, ...centre()));
  $('zoom-fit').addEventListener('click', () => { if (view.mode !== 'empty') fitView(); });
  $('zoom-1').addEventListener('click', () => { if (view.mode !== 'empty') zoomAt(1 / view.zoom, ...centre()); });
  $('before-mode').addEventListener('change', setBeforeImage);
  window.addEventListener('resize', () => { if (view.mode !== 'empty') applyView(); });
}

// ---------------------------------------------------------------------------------------------

// A page that is left (closed, reloaded, navigated away from, or put in the back-forward cache) closes its
// stream, which tells the server to cancel its jobs; coming back from the cache starts a new session.
window.addEventListener('pagehide', () => {
  if (state.events) state.events.close();
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && state.config) {
    setConnection('', 'connecting…');
    openSession();
  }
});

document.addEventListener('DOMContentLoaded', () => {
  setupDrop();
  setupViewer();
  $('settings').addEventListener('submit', start);
  init();
});
