// Node.js clients (and their test servers) for the compatibility matrix.
//
//   node matrix.js ws-server HOST PORT        WebSocket echo server
//   node matrix.js h2-server HOST PORT N      cleartext HTTP/2 server, N bytes at /
//   node matrix.js ws SOCKS_URL URL           ws over socks-proxy-agent: 100 echoes
//   node matrix.js h2 SOCKS_HOST:PORT URL     http2 over a SOCKS socket
//   node matrix.js tls SOCKS_HOST:PORT HOST PORT PATH   tls.connect over a SOCKS socket
//   node matrix.js workers SOCKS_URL URL N    N worker_threads, one http.get each
//   node matrix.js proxyagent PROXY_URL URL   fetch with undici's ProxyAgent (CONNECT)
//
// Clients print the payload bytes they received.
'use strict';
const http = require('http');
const http2 = require('http2');
const tls = require('tls');
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');

function die(e) { console.error(e && e.stack ? e.stack : e); process.exit(1); }

async function socksSocket(proxy, host, port) {
  const { SocksClient } = require('socks');
  const [ph, pp] = proxy.split(':');
  const { socket } = await SocksClient.createConnection({
    proxy: { host: ph, port: Number(pp), type: 5 },
    command: 'connect',
    destination: { host, port: Number(port) },
  });
  return socket;
}

// A socket as a plain JS stream.  The socks client re-emits bytes that
// arrived together with the proxy's reply as a 'data' event; http2 reads a
// net.Socket's native handle directly and would never see them (an h2c
// server speaks first: its SETTINGS frame can share a segment with the
// SOCKS reply, and the session then fails with a protocol error).
function jsStream(sock) {
  const { Duplex } = require('stream');
  const d = new Duplex({
    read() { sock.resume(); },
    write(chunk, enc, cb) { sock.write(chunk, enc, cb); },
    final(cb) { sock.end(); cb(); },
    destroy(err, cb) { sock.destroy(); cb(err); },
  });
  sock.on('data', (c) => { if (!d.push(c)) sock.pause(); });
  sock.on('end', () => d.push(null));
  sock.on('error', (e) => d.destroy(e));
  return d;
}

function httpGet(url, agent) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
}

const modes = {
  'ws-server'(host, port) {
    const { WebSocketServer } = require('ws');
    new WebSocketServer({ host, port: Number(port) }).on('connection', (ws) => {
      ws.on('message', (m, binary) => ws.send(m, { binary }));
    });
  },
  'h2-server'(host, port, n) {
    const body = Buffer.alloc(Number(n), 'x');
    http2.createServer((req, res) => res.end(body)).listen(Number(port), host);
  },
  ws(proxy, url) {
    const WebSocket = require('ws');
    const { SocksProxyAgent } = require('socks-proxy-agent');
    const ws = new WebSocket(url, { agent: new SocksProxyAgent(proxy) });
    let left = 100, n = 0;
    ws.on('open', () => ws.send(Buffer.alloc(1000, 'w')));
    ws.on('message', (m) => {
      n += m.length;
      if (--left > 0) ws.send(Buffer.alloc(1000, 'w'));
      else ws.close();
    });
    ws.on('close', () => console.log(n));
    ws.on('error', die);
  },
  async h2(proxy, url) {
    const u = new URL(url);
    const socket = jsStream(await socksSocket(proxy, u.hostname, u.port || 80));
    const s = http2.connect(url, { createConnection: () => socket });
    let n = 0;
    const req = s.request({ ':path': u.pathname });
    req.on('data', (c) => { n += c.length; });
    req.on('end', () => { console.log(n); s.close(); });
    req.on('error', die);
  },
  async tls(proxy, host, port, path) {
    const socket = await socksSocket(proxy, host, port);
    const t = tls.connect({ socket, servername: host }, () => {
      t.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
    });
    let n = 0;
    t.on('data', (c) => { n += c.length; });
    t.on('end', () => { console.log(n); t.end(); });
    t.on('error', die);
  },
  async workers(proxy, url, count) {
    const runs = [];
    for (let i = 0; i < Number(count); i++) {
      runs.push(new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { proxy, url } });
        w.on('message', resolve);
        w.on('error', reject);
      }));
    }
    console.log((await Promise.all(runs)).reduce((a, b) => a + b, 0));
  },
  async proxyagent(proxy, url) {
    const { ProxyAgent, fetch: undiciFetch } = require('undici');
    const dispatcher = new ProxyAgent(proxy);
    const r = await undiciFetch(url, { dispatcher });
    console.log((await r.arrayBuffer()).byteLength);
    await dispatcher.close();
  },
};

if (!isMainThread) {
  const { SocksProxyAgent } = require('socks-proxy-agent');
  httpGet(workerData.url, new SocksProxyAgent(workerData.proxy))
    .then((n) => parentPort.postMessage(n), die);
} else {
  const [mode, ...args] = process.argv.slice(2);
  if (!modes[mode]) die(`unknown mode ${mode}`);
  Promise.resolve(modes[mode](...args)).catch(die);
}
