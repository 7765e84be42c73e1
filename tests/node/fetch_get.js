// Node's built-in fetch through a SOCKS dispatcher (fetch-socks), the way
// fetch users reach a proxy: fetch itself has no SOCKS support.
'use strict';
const { socksDispatcher } = require('fetch-socks');

const [proxy, url] = process.argv.slice(2);
const p = new URL(proxy);
const dispatcher = socksDispatcher({ type: 5, host: p.hostname, port: Number(p.port) });
fetch(url, { dispatcher })
  .then((r) => r.arrayBuffer())
  .then((b) => { console.log(b.byteLength); return dispatcher.close(); })
  .catch((e) => { console.error(e.message, e.cause ? e.cause.message : ''); process.exit(1); });
