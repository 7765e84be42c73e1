// http.get through socks-proxy-agent (socks5h: the proxy resolves the name).
'use strict';
const http = require('http');
const { SocksProxyAgent } = require('socks-proxy-agent');

const [proxy, url] = process.argv.slice(2);
http.get(url, { agent: new SocksProxyAgent(proxy) }, (res) => {
  let n = 0;
  res.on('data', (c) => { n += c.length; });
  res.on('end', () => { console.log(n); });
}).on('error', (e) => { console.error(e.message); process.exit(1); });
