// Switchboard sample agent desktop: plain JavaScript, no framework, no build step.
//
// It talks to the server only with the agent's own token:
//   GET  /v1/agents/{id}                       the agent, its state
//   POST /v1/agents/{id}/state                 ready, notReady with a reason, loggedOut
//   WS   /v1/agents/{id}/stream?access_token=  offers as they are made: the XML message, one
//                                              document per text frame (docs/message.md)
//   GET  /v1/work-items?state=offered|accepted what is offered to or held by the agent
//   GET  /v1/work-items/{id}                   one item: body, attachments, routing decision
//   POST /v1/work-items/{id}/accept|decline|complete
// The stream says that something happened; REST is the record. Every change the stream
// announces is read back over REST, and the page re-reads its state every few seconds, so a
// missed frame (a reconnect, an expiry the stream does not announce) costs at most a short delay.
// Everything a customer wrote is shown as text (textContent), never as markup.

'use strict';

(() => {
  const MESSAGE_NS = 'urn:switchboard:message:v1';
  const STORAGE_KEY = 'switchboard.agent-desktop';
  const RESYNC_MS = 10000;
  // A pushed offer may reach the page before the store has written it: REST is given this long
  // to catch up before the page believes REST over the stream.
  const PUSH_GRACE_MS = 5000;

  const $ = (id) => document.getElementById(id);

  const session = { token: null, agentId: null, agent: null };
  const offers = new Map(); // work item id -> { id, item, reason, queue, expires, received, expired }
  const work = new Map(); // work item id -> item (REST JSON)
  const details = new Map(); // work item id -> { trace } from GET /v1/work-items/{id}
  const reasons = new Map(); // work item id -> the reason its offer gave
  let selected = null;
  let socket = null;
  let reconnectDelay = 1000;
  let reconnectTimer = null;
  let resyncTimer = null;
  let tickTimer = null;
  let toastTimer = null;

  // ------------------------------------------------------------------------------- helpers

  /** Builds an element; children are nodes or text (never parsed as HTML). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
    weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });

  function clock(ms) {
    return Number.isFinite(ms) ? timeFormat.format(new Date(ms)) : '';
  }

  function ago(ms) {
    if (!Number.isFinite(ms)) return '';
    const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (seconds < 60) return 'just now';
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return `${minutes} min ago`;
    const hours = Math.floor(minutes / 60);
    return `${hours} h ${minutes % 60} min ago`;
  }

  function bytes(size) {
    if (!Number.isFinite(size)) return '';
    if (size < 1024) return `${size} B`;
    if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
    return `${(size / 1024 / 1024).toFixed(1)} MB`;
  }

  function customerLabel(item) {
    const customer = (item && item.customer) || {};
    const address = (customer.addresses || [])[0];
    return customer.name || (address && (address.name || address.value)) || 'Unknown customer';
  }

  function customerAddress(item) {
    const customer = (item && item.customer) || {};
    const address = (customer.addresses || [])[0];
    if (!address) return customer.name || '—';
    const name = address.name || customer.name;
    return name ? `${name} <${address.value}>` : address.value;
  }

  /** The text of a body; an HTML body is reduced to its text by an inert parser. */
  function bodyText(body) {
    if (!body || !body.text) return '';
    if (/html/i.test(body.type || '')) {
      const doc = new DOMParser().parseFromString(body.text, 'text/html');
      return (doc.body ? doc.body.textContent : '').trim();
    }
    return body.text;
  }

  const STATE_LABELS = {
    ready: 'Ready',
    notReady: 'Not ready',
    reserved: 'Offer pending',
    busy: 'Busy',
    wrapUp: 'Wrap-up',
    loggedOut: 'Logged out',
  };

  const ORDER_LABELS = {
    previousAgent: 'previous agent of this customer',
    highestSkill: 'highest skill',
    longestIdle: 'longest idle',
    seniority: 'most senior',
    fewestContacts: 'fewest contacts today',
    roundRobin: 'round robin',
    weightedRandom: 'weighted random',
  };

  /**
   * Why the item came to this agent, read from the routing decision (docs/routing.md): the
   * item's trace, or else the offer's reason (the same trace on one line); at least the queue.
   */
  function routingReason(id, item) {
    const offer = offers.get(id);
    // The offer's reason is the routing decision's trace on one line: read like the item's trace.
    const given = (offer && offer.reason) || reasons.get(id) || '';
    const queue = (offer && offer.queue) || item.queue || '?';
    const topic = (item.attributes || {}).topic;
    const parts = [`${topic ? `topic ${topic} → ` : ''}queue ${queue}`];
    const trace = (details.get(id) || {}).trace || given;
    const first = trace.split('\n')[0];
    if (/\(previous agent\)/.test(first)) {
      parts.push(ORDER_LABELS.previousAgent);
    } else {
      const ordering = /ordering:\s*([^\n]+)/.exec(trace);
      const eligible = /eligible:\s*([^\n]+)/.exec(trace);
      const keys = ordering ? ordering[1].split(',').map((k) => k.trim()).filter((k) => k && k !== 'previousAgent') : [];
      const count = eligible ? (eligible[1].match(/\[/g) || []).length : 0;
      if (keys.length > 0) {
        parts.push(`${ORDER_LABELS[keys[0]] || keys[0]}${count > 0 ? ` of ${count} eligible` : ''}`);
      }
    }
    return parts.join(' · ');
  }

  const REASON_LABELS = {
    break: 'Break', lunch: 'Lunch', meeting: 'Meeting', training: 'Training',
    backOffice: 'Back-office work', other: 'Other', login: 'Just signed in',
    'missed offers': 'Missed offers',
  };

  // ---------------------------------------------------------------------------------- REST

  class ApiError extends Error {
    constructor(status, message, problem) {
      super(message);
      this.status = status;
      this.problem = problem;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${session.token}`, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, 'The server cannot be reached.');
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = null;
      }
    }
    if (!response.ok) {
      const detail = (data && (data.detail || data.title)) || `${response.status} ${response.statusText}`;
      const error = new ApiError(response.status, detail, data);
      if (response.status === 401) expired(error);
      throw error;
    }
    return data;
  }

  const agentPath = () => `/v1/agents/${encodeURIComponent(session.agentId)}`;
  const itemPath = (id) => `/v1/work-items/${encodeURIComponent(id)}`;

  // ------------------------------------------------------------------------------- sign in

  /** The agent id inside a token ("sbt1.<agent id, base64url>.<expiry>.<signature>"). */
  function agentFromToken(token) {
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== 'sbt1') return null;
    try {
      const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
      const raw = atob(padded);
      return new TextDecoder().decode(Uint8Array.from(raw, (c) => c.charCodeAt(0))) || null;
    } catch (error) {
      return null;
    }
  }

  async function signIn(token, agentId) {
    token = token.trim();
    agentId = (agentId || '').trim() || agentFromToken(token);
    if (!token) throw new Error('Paste your agent token.');
    if (!agentId) throw new Error('This token does not name an agent: give the agent id too.');
    session.token = token;
    session.agentId = agentId;
    try {
      session.agent = await api('GET', agentPath());
    } catch (error) {
      session.token = null;
      if (error.status === 401) throw new Error('This token is not valid or has expired.');
      if (error.status === 403) throw new Error(`This token is not for agent ${agentId}.`);
      throw error;
    }
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, agentId }));
    $('login-view').hidden = true;
    $('desk-view').hidden = false;
    log(`Signed in as ${session.agent.name || agentId}`);
    renderAgent();
    render();
    connect();
    resync();
    resyncTimer = setInterval(resync, RESYNC_MS);
    tickTimer = setInterval(tick, 1000);
  }

  function signedOut(message) {
    clearInterval(resyncTimer);
    clearInterval(tickTimer);
    clearTimeout(reconnectTimer);
    const open = socket;
    socket = null;
    if (open) open.close(1000, 'signed out');
    sessionStorage.removeItem(STORAGE_KEY);
    session.token = null;
    session.agent = null;
    offers.clear();
    work.clear();
    details.clear();
    reasons.clear();
    selected = null;
    $('desk-view').hidden = true;
    $('login-view').hidden = false;
    $('login-token').value = '';
    showLoginError(message);
  }

  function expired() {
    if (session.token) signedOut('Your token has expired or is no longer valid: sign in again.');
  }

  function showLoginError(message) {
    $('login-error').textContent = message || '';
    $('login-error').hidden = !message;
  }

  // ------------------------------------------------------------------------- agent state

  async function setState(state, reason) {
    const body = { state };
    if (reason) body.reason = reason;
    try {
      session.agent = await api('POST', `${agentPath()}/state`, body);
      renderAgent();
      log(`State: ${STATE_LABELS[state]}${reason ? ` (${REASON_LABELS[reason] || reason})` : ''}`);
    } catch (error) {
      toast(error.message, true);
    }
  }

  async function refreshAgent() {
    try {
      session.agent = await api('GET', agentPath());
      renderAgent();
    } catch (error) {
      if (error.status !== 401) log(`Agent not read: ${error.message}`);
    }
  }

  function renderAgent() {
    const agent = session.agent || {};
    $('agent-name').textContent = agent.name || session.agentId || '—';
    const email = (agent.capacity || []).find((c) => c.medium === 'email');
    const meta = [agent.id, agent.site];
    if (email) meta.push(`email ${email.active || 0}/${email.max}`);
    $('agent-meta').textContent = meta.filter(Boolean).join(' · ');
    const state = agent.state || 'loggedOut';
    const pill = $('state-pill');
    pill.className = `pill state-${state}`;
    pill.dataset.state = state;
    let label = STATE_LABELS[state] || state;
    if (state === 'notReady' && agent.stateReason) {
      label += ` · ${REASON_LABELS[agent.stateReason] || agent.stateReason}`;
    }
    pill.textContent = label;
    $('state-since').textContent = agent.stateSince ? `since ${clock(Date.parse(agent.stateSince))}` : '';
    $('state-ready').disabled = state === 'ready' || state === 'reserved' || state === 'busy';
  }

  // ------------------------------------------------------------------------ agent stream

  function setConnection(kind, text) {
    const node = $('connection');
    node.className = `conn conn-${kind}`;
    node.textContent = text;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}${agentPath()}/stream` +
      `?access_token=${encodeURIComponent(session.token)}`;
    const ws = new WebSocket(url);
    socket = ws;
    setConnection('wait', 'Connecting…');
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      reconnectDelay = 1000;
      setConnection('on', 'Live');
      log('Agent stream connected');
      resync();
    });
    ws.addEventListener('message', (event) => {
      if (socket === ws && typeof event.data === 'string') onFrame(event.data);
    });
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      socket = null;
      setConnection('wait', 'Reconnecting…');
      log(`Agent stream closed (${event.code}); reconnecting`);
      reconnectTimer = setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15000);
    });
  }

  const children = (node) => Array.from(node ? node.children : []);
  const child = (node, name) => children(node).find((c) => c.localName === name) || null;
  const attr = (node, name) => (node && node.hasAttribute(name) ? node.getAttribute(name) : undefined);

  /** A <workItem> record of the message, in the shape REST gives. Unknown content is ignored. */
  function readWorkItem(node) {
    const item = {
      id: attr(node, 'id'),
      medium: attr(node, 'medium'),
      state: attr(node, 'state'),
      priority: Number(attr(node, 'priority') || 50),
      queue: attr(node, 'queue'),
      agent: attr(node, 'agent'),
      created: attr(node, 'created'),
      attachments: [],
      attributes: {},
    };
    const customer = child(node, 'customer');
    if (customer) {
      item.customer = {
        name: attr(customer, 'name'),
        ref: attr(customer, 'ref'),
        language: attr(customer, 'language'),
        tier: attr(customer, 'tier'),
        addresses: children(customer).filter((c) => c.localName === 'address').map((a) => ({
          kind: attr(a, 'kind'), name: attr(a, 'name'), value: a.textContent,
        })),
      };
    }
    const contact = child(node, 'contactPoint');
    if (contact) item.contactPoint = { kind: attr(contact, 'kind'), name: attr(contact, 'name'), value: contact.textContent };
    const subject = child(node, 'subject');
    if (subject) item.subject = subject.textContent;
    const body = child(node, 'body');
    if (body) item.body = { type: attr(body, 'type') || 'text/plain', text: body.textContent };
    for (const c of children(node)) {
      if (c.localName === 'attachment') {
        item.attachments.push({
          name: attr(c, 'name'), type: attr(c, 'type'), size: Number(attr(c, 'size')), digest: attr(c, 'digest'),
        });
      } else if (c.localName === 'attribute') {
        item.attributes[attr(c, 'name')] = c.textContent;
      }
    }
    return item;
  }

  function onFrame(text) {
    if (text.trimStart().startsWith('{')) {
      // JSON frames come only to clients that ask for them; this page reads the XML message.
      resync();
      return;
    }
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    const message = doc.documentElement;
    if (doc.getElementsByTagName('parsererror').length > 0 || !message ||
        message.localName !== 'message' || message.namespaceURI !== MESSAGE_NS) {
      log('An unreadable frame was ignored');
      return;
    }
    const payload = children(message).find((c) =>
      ['command', 'notification', 'request', 'response'].includes(c.localName));
    const kind = payload && payload.firstElementChild;
    if (!kind) return;
    const records = children(message).filter((c) => c.localName === 'workItem').map(readWorkItem);
    switch (`${payload.localName}/${kind.localName}`) {
      case 'command/offer':
        onOffer(kind, records);
        break;
      case 'command/withdrawOffer':
        onGone(attr(kind, 'workItem'), 'Offer withdrawn');
        break;
      case 'notification/agentStateChanged':
        refreshAgent();
        break;
      default:
        // Anything else (item updates, notifications added later): read the record again.
        log(`${kind.localName} received`);
        resync();
    }
  }

  function onOffer(node, records) {
    const id = attr(node, 'workItem');
    if (!id) return;
    const known = offers.get(id) || {};
    const record = records.find((r) => r.id === id);
    const offer = {
      ...known,
      id,
      item: { ...(record || {}), ...(known.item || {}) },
      reason: attr(node, 'reason') || known.reason || '',
      queue: attr(node, 'queue') || known.queue || (record && record.queue) || '',
      expires: Date.parse(attr(node, 'expires')) || known.expires || NaN,
      offered: known.offered || Date.now(),
      received: Date.now(),
      expired: false,
    };
    if (!offer.item.id) offer.item.id = id;
    if (offer.reason) reasons.set(id, offer.reason);
    offers.set(id, offer);
    log(`Offer ${id} arrived`);
    if (!selected || (!offers.has(selected) && !work.has(selected))) selected = id;
    render();
    loadItem(id);
  }

  function onGone(id, why) {
    if (!id) return;
    const was = offers.delete(id) || work.delete(id);
    if (was) log(`${why}: ${id}`);
    if (selected === id) selected = null;
    render();
  }

  // --------------------------------------------------------------------- reading items

  async function loadItem(id, attempt = 0) {
    try {
      const item = await api('GET', itemPath(id));
      details.set(id, { trace: item.trace });
      if (item.state === 'offered') {
        const offer = offers.get(id) || { id, reason: '', queue: item.queue, offered: Date.now(), received: 0 };
        offer.item = { ...(offer.item || {}), ...item };
        if (item.offerExpires) offer.expires = Date.parse(item.offerExpires);
        offers.set(id, offer);
      } else if (item.state === 'accepted') {
        offers.delete(id);
        work.set(id, { ...(work.get(id) || {}), ...item });
      } else if (offers.has(id) && Date.now() - offers.get(id).received < PUSH_GRACE_MS && attempt < 5) {
        setTimeout(() => loadItem(id, attempt + 1), 500); // the store has not caught up yet
        return;
      } else {
        onGone(id, `Item ${item.state}`);
      }
      render();
    } catch (error) {
      const fresh = offers.has(id) && Date.now() - offers.get(id).received < PUSH_GRACE_MS;
      if (error.status === 403 && fresh && attempt < 5) {
        setTimeout(() => loadItem(id, attempt + 1), 500);
      } else if (error.status === 403 || error.status === 404) {
        onGone(id, 'No longer yours');
      } else if (error.status !== 401) {
        log(`Item ${id} not read: ${error.message}`);
      }
    }
  }

  let resyncing = false;

  async function resync() {
    if (!session.token || resyncing) return;
    resyncing = true;
    try {
      const [agent, offered, accepted] = await Promise.all([
        api('GET', agentPath()),
        api('GET', '/v1/work-items?state=offered&limit=100'),
        api('GET', '/v1/work-items?state=accepted&limit=100'),
      ]);
      session.agent = agent;
      const now = Date.now();
      const offeredIds = new Set();
      for (const item of offered.items || []) {
        offeredIds.add(item.id);
        const offer = offers.get(item.id) ||
          { id: item.id, reason: '', queue: item.queue, offered: now, received: 0 };
        offer.item = { ...(offer.item || {}), ...item };
        if (item.offerExpires) offer.expires = Date.parse(item.offerExpires);
        offers.set(item.id, offer);
      }
      for (const [id, offer] of offers) {
        if (!offeredIds.has(id) && now - offer.received >= PUSH_GRACE_MS) offers.delete(id);
      }
      const acceptedIds = new Set();
      for (const item of accepted.items || []) {
        acceptedIds.add(item.id);
        work.set(item.id, { ...(work.get(item.id) || {}), ...item });
        offers.delete(item.id);
      }
      for (const id of work.keys()) {
        if (!acceptedIds.has(id)) work.delete(id);
      }
      if (selected && !offers.has(selected) && !work.has(selected)) selected = null;
      renderAgent();
      render();
    } catch (error) {
      if (error.status !== 401) log(`Refresh failed: ${error.message}`);
    } finally {
      resyncing = false;
    }
  }

  // ------------------------------------------------------------------------------ actions

  async function accept(id) {
    setBusy(true);
    try {
      const item = await api('POST', `${itemPath(id)}/accept`);
      const offer = offers.get(id);
      offers.delete(id);
      work.set(id, { ...((offer && offer.item) || {}), ...item });
      selected = id;
      log(`Accepted ${id}`);
      toast(`Accepted: ${item.subject || id}`);
      render();
      refreshAgent();
      loadItem(id);
    } catch (error) {
      toast(`Not accepted: ${error.message}`, true);
      resync();
    } finally {
      setBusy(false);
    }
  }

  async function decline(id) {
    setBusy(true);
    try {
      await api('POST', `${itemPath(id)}/decline`, { reason: 'declined by agent' });
      onGone(id, 'Declined');
      refreshAgent();
    } catch (error) {
      toast(`Not declined: ${error.message}`, true);
      resync();
    } finally {
      setBusy(false);
    }
  }

  async function complete(id) {
    const body = { disposition: $('complete-disposition').value };
    const notes = $('complete-notes').value.trim();
    if (notes) body.notes = notes;
    setBusy(true);
    try {
      await api('POST', `${itemPath(id)}/complete`, body);
      work.delete(id);
      if (selected === id) selected = null;
      $('complete-notes').value = '';
      log(`Completed ${id}`);
      toast('Completed');
      render();
      refreshAgent();
    } catch (error) {
      toast(`Not completed: ${error.message}`, true);
      resync();
    } finally {
      setBusy(false);
    }
  }

  async function download(id, index, attachment) {
    try {
      const response = await fetch(`${itemPath(id)}/attachments/${index}`, {
        headers: { Authorization: `Bearer ${session.token}` }, cache: 'no-store',
      });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      // Saved, never shown: as bytes, whatever type the customer's mail gave it.
      const blob = new Blob([await response.arrayBuffer()], { type: 'application/octet-stream' });
      const url = URL.createObjectURL(blob);
      const link = el('a', { href: url, download: attachment.name || 'attachment' });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      toast(`The attachment cannot be downloaded: ${error.message}`, true);
    }
  }

  function setBusy(busy) {
    for (const button of document.querySelectorAll('.act')) button.disabled = busy;
  }

  // ------------------------------------------------------------------------------ render

  function chips(item, queue) {
    const out = [];
    if (item.medium) out.push(el('span', { class: 'chip' }, item.medium));
    if (queue || item.queue) out.push(el('span', { class: 'chip chip-quiet' }, queue || item.queue));
    const attributes = item.attributes || {};
    if (attributes.vip === 'true') out.push(el('span', { class: 'chip chip-vip' }, 'VIP'));
    if (attributes.language) out.push(el('span', { class: 'chip chip-quiet' }, attributes.language));
    return out;
  }

  function offerCard(offer) {
    const item = offer.item || {};
    const remaining = offer.expires - Date.now();
    return el('li', {
      class: `card offer${selected === offer.id ? ' selected' : ''}${offer.expired ? ' expired' : ''}`,
      dataset: { item: offer.id },
      onclick: () => select(offer.id),
    },
    el('div', { class: 'card-top' },
      el('span', { class: 'card-customer' }, customerLabel(item)),
      el('span', { class: 'card-time', dataset: { expires: String(offer.expires) } }, countdown(remaining))),
    el('div', { class: 'card-subject' }, item.subject || '(no subject)'),
    el('div', { class: 'card-reason' }, 'Why you: ', el('b', {}, routingReason(offer.id, item))),
    el('div', { class: 'card-meta' }, chips(item, offer.queue)),
    el('div', { class: 'timer' }, el('span', { dataset: { expires: String(offer.expires), offered: String(offer.offered) } })),
    el('div', { class: 'card-actions' },
      el('button', { type: 'button', class: 'quiet act decline', onclick: (e) => { e.stopPropagation(); decline(offer.id); } }, 'Decline'),
      el('button', { type: 'button', class: 'go act accept', onclick: (e) => { e.stopPropagation(); accept(offer.id); } }, 'Accept')));
  }

  function workCard(item) {
    return el('li', {
      class: `card work${selected === item.id ? ' selected' : ''}`,
      dataset: { item: item.id },
      onclick: () => select(item.id),
    },
    el('div', { class: 'card-top' },
      el('span', { class: 'card-customer' }, customerLabel(item)),
      el('span', { class: 'card-time' }, clock(Date.parse(item.created)))),
    el('div', { class: 'card-subject' }, item.subject || '(no subject)'),
    el('div', { class: 'card-meta' }, chips(item)));
  }

  function countdown(remaining) {
    if (!Number.isFinite(remaining)) return '';
    if (remaining <= 0) return 'expired';
    const seconds = Math.ceil(remaining / 1000);
    return seconds >= 60 ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} left` : `${seconds}s left`;
  }

  function select(id) {
    selected = id;
    render();
    if (!details.has(id)) loadItem(id);
  }

  function render() {
    const offerList = [...offers.values()].sort((a, b) => a.offered - b.offered);
    $('offers').replaceChildren(...offerList.map(offerCard));
    $('offers-empty').hidden = offerList.length > 0;
    $('offer-count').textContent = String(offerList.length);
    const workList = [...work.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    $('work').replaceChildren(...workList.map(workCard));
    $('work-empty').hidden = workList.length > 0;
    $('work-count').textContent = String(workList.length);
    tick();
    renderItem();
  }

  function renderItem() {
    const offer = offers.get(selected);
    const item = offer ? offer.item : work.get(selected);
    $('item-empty').hidden = Boolean(item);
    $('item-view').hidden = !item;
    if (!item) return;
    const view = $('item-view');
    view.dataset.item = selected;
    $('item-medium').textContent = item.medium || 'item';
    $('item-id').textContent = selected;
    $('item-queue').textContent = `queue ${(offer && offer.queue) || item.queue || '—'}`;
    $('item-state').textContent = offer ? 'offered' : (item.state || 'accepted');
    $('item-state').className = `chip state-${offer ? 'reserved' : 'busy'}`;
    $('item-subject').textContent = item.subject || '(no subject)';
    $('item-from').textContent = customerAddress(item);
    const contact = item.contactPoint;
    $('item-to').textContent = contact ? (contact.name ? `${contact.name} <${contact.value}>` : contact.value) : '—';
    const created = Date.parse(item.created);
    $('item-received').textContent = Number.isFinite(created)
      ? `${dateTimeFormat.format(new Date(created))} (${ago(created)})` : '—';
    $('item-reason').textContent = routingReason(selected, item);
    $('item-reason').title = (details.get(selected) || {}).trace || '';
    // Attributes with a dot in their name are a channel's bookkeeping (email.messageId).
    const attributes = Object.entries(item.attributes || {}).filter(([name]) => !name.includes('.'));
    $('item-attributes').replaceChildren(...attributes.map(([name, value]) =>
      el('span', { class: 'chip chip-quiet' }, `${name}: ${value}`)));
    $('item-offer').hidden = !offer;
    // A chat or call carries a transcript rather than a body.
    const transcript = (item.transcript || []).map((line) =>
      `${clock(Date.parse(line.time))}  ${line.name || line.author || ''}: ${line.text}`).join('\n');
    const text = bodyText(item.body) || transcript;
    $('item-body').textContent = text || (item.body || details.has(selected) ? '(no text)' : 'Loading…');
    const attachments = item.attachments || [];
    $('item-attachments-wrap').hidden = attachments.length === 0;
    $('item-attachments').replaceChildren(...attachments.map((attachment, index) => {
      const extension = ((attachment.name || '').split('.').pop() || 'file').slice(0, 4);
      return el('li', { class: 'attachment' },
        el('span', { class: 'attachment-icon' }, extension),
        el('div', {},
          el('div', { class: 'attachment-name' }, attachment.name || `attachment ${index + 1}`),
          el('div', { class: 'muted small' }, `${attachment.type || ''} · ${bytes(attachment.size)}`)),
        offer ? null : el('button', { type: 'button', class: 'quiet', onclick: () => download(selected, index, attachment) }, 'Download'));
    }));
    $('complete-form').hidden = Boolean(offer);
  }

  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll('.card-time[data-expires]')) {
      node.textContent = countdown(Number(node.dataset.expires) - now);
    }
    for (const node of document.querySelectorAll('.timer > span')) {
      const expires = Number(node.dataset.expires);
      const offered = Number(node.dataset.offered);
      const total = Math.max(1, expires - Math.min(offered, expires - 1000));
      node.style.width = Number.isFinite(expires) ? `${Math.max(0, Math.min(100, ((expires - now) / total) * 100))}%` : '100%';
    }
    const offer = offers.get(selected);
    $('item-offer-expiry').textContent = offer ? countdown(offer.expires - now) : '';
    for (const [id, current] of offers) {
      if (!current.expired && Number.isFinite(current.expires) && current.expires <= now) {
        current.expired = true;
        log(`Offer ${id} expired`);
        const card = document.querySelector(`.card.offer[data-item="${CSS.escape(id)}"]`);
        if (card) card.classList.add('expired');
        setTimeout(resync, 1500);
      }
    }
  }

  function log(text) {
    const list = $('log');
    list.prepend(el('li', {}, el('time', {}, clock(Date.now())), text));
    while (list.children.length > 40) list.lastElementChild.remove();
  }

  function toast(text, bad = false) {
    const node = $('toast');
    node.textContent = text;
    node.className = `toast${bad ? ' bad' : ''}`;
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, bad ? 6000 : 3000);
  }

  // ------------------------------------------------------------------------------ wiring

  /**
   * A CRM may open the page signed in: /agent/#token=...[&agent=...]. The fragment never reaches
   * a server or a log, and it is removed from the address bar at once.
   */
  function tokenFromFragment() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (!fragment.get('token')) return null;
    history.replaceState(null, '', location.pathname + location.search);
    return { token: fragment.get('token'), agentId: fragment.get('agent') || '' };
  }

  function start() {
    $('login-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      showLoginError('');
      $('login-submit').disabled = true;
      try {
        await signIn($('login-token').value, $('login-agent').value);
      } catch (error) {
        showLoginError(error.message);
      } finally {
        $('login-submit').disabled = false;
      }
    });
    $('state-ready').addEventListener('click', () => setState('ready'));
    $('state-notready').addEventListener('click', () => setState('notReady', $('notready-reason').value));
    $('sign-out').addEventListener('click', async () => {
      try {
        await api('POST', `${agentPath()}/state`, { state: 'loggedOut' });
      } catch (error) {
        // Holding items, the agent stays logged in at the server; the page signs out anyway.
      }
      signedOut('');
    });
    $('item-accept').addEventListener('click', () => selected && accept(selected));
    $('item-decline').addEventListener('click', () => selected && decline(selected));
    $('complete-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (selected && work.has(selected)) complete(selected);
    });

    window.addEventListener('hashchange', () => {
      const given = tokenFromFragment();
      if (given && !session.token) {
        signIn(given.token, given.agentId).catch((error) => signedOut(error.message));
      }
    });
    let saved = tokenFromFragment();
    if (!saved) {
      try {
        saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
      } catch (error) {
        saved = null;
      }
    }
    if (saved && saved.token) {
      signIn(saved.token, saved.agentId).catch((error) => signedOut(error.message));
    } else {
      $('login-view').hidden = false;
    }
  }

  start();
})();
