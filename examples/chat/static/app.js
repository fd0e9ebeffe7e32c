// The chat page: one channel socket client (js/src, served at /js/) per joined user.
//
// Query parameters: ?type=auto|ws|ajax chooses the client type (default auto),
// ?name=… joins at once under that name.
import { makeChannelSocketClient, kw, ChskReplyError } from '/js/index.js';

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const chskType = ['auto', 'ws', 'ajax'].includes(query.get('type')) ? query.get('type') : 'auto';
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

const CHAT_MSG = kw('chat/msg');
const CHAT_ONLINE = kw('chat/online');

let chsk = null;

function showState(state) {
  $('status').dataset.open = String(state.open);
  $('status').dataset.type = state.type;
  $('state').textContent = state.open ? 'open' : state.everOpened ? 'reconnecting…' : 'connecting…';
  $('transport').textContent = state.type;
}

function showOnline(names) {
  const list = $('online');
  list.replaceChildren(
    ...names.map((name) => {
      const li = document.createElement('li');
      li.textContent = String(name);
      return li;
    }),
  );
}

function showMessage(msg) {
  const from = String(msg.get(kw('from')) ?? '?');
  const text = String(msg.get(kw('text')) ?? '');
  const at = msg.get(kw('at'));
  const li = document.createElement('li');
  const time = document.createElement('time');
  if (at instanceof Date) {
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString();
  }
  const who = document.createElement('b');
  who.className = 'from';
  who.textContent = from;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  li.append(time, ' ', who, ' ', body);
  $('messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

async function refreshOnline() {
  try {
    showOnline(await chsk.send(['chat/who'], { timeoutMs: 5000 }));
  } catch (e) {
    if (!(e instanceof ChskReplyError)) throw e;
  }
}

function join(name) {
  name = name.trim();
  if (!name || chsk) return;
  chsk = makeChannelSocketClient('/chsk', csrfToken, {
    type: chskType,
    params: { uid: name },
    // Ajax POSTs carry no query parameters: the name goes in a header too.
    ajaxOpts: { headers: { 'x-chat-uid': encodeURIComponent(name) } },
  });
  window.chsk = chsk; // for the browser's console
  $('me').textContent = `· you are ${name}`;
  $('join').hidden = true;
  $('room').hidden = false;
  showState(chsk.state);
  chsk.onState((state) => {
    showState(state);
    if (state.opened) refreshOnline();
  });
  chsk.onEvent(([id, data]) => {
    if (id === CHAT_MSG) showMessage(data);
    else if (id === CHAT_ONLINE) showOnline(data);
  });
  $('text').focus();
}

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  join($('name').value);
});

$('say').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text || !chsk) return;
  try {
    await chsk.send(['chat/say', { text }], { timeoutMs: 5000 });
    $('text').value = '';
  } catch (err) {
    if (!(err instanceof ChskReplyError)) throw err;
    $('notice').textContent = `not sent (${err.reply.name})`;
  }
});

if (query.get('name')) join(query.get('name'));
