// http.get or https.get through socks-proxy-agent (socks5h: the proxy
// resolves the name).  For https the test's CA comes in NODE_EXTRA_CA_CERTS.
'use strict';
const { SocksProxyAgent } = require('socks-proxy-agent');

const [proxy, url] = process.argv.slice(2);
const mod = require(new URL(url).protocol === 'https:' ? 'https' : 'http');
mod.get(url, { agent: new SocksProxyAgent(proxy) }, (res) => {
  let n = 0;
  res.on('data', (c) => { n += c.length; });
  res.on('end', () => { console.log(n); });
}).on('error', (e) => { console.error(e.message); process.exit(1); });
