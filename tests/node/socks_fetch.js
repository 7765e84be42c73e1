// Fetch http://HOST:PORT/PATH through a SOCKS5 proxy with the npm "socks"
// package, close the socket, report what was moved, then stay alive for
// HOLD_MS so the test can look at the gauges of a live process.
'use strict';
const fs = require('fs');
const { SocksClient } = require('socks');

const [proxyHost, proxyPort, host, port, path, holdMs, reportFile] = process.argv.slice(2);

async function main() {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: proxyHost, port: Number(proxyPort), type: 5 },
    command: 'connect',
    destination: { host, port: Number(port) },
  });
  const request = `GET /${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`;
  let received = 0;
  socket.on('data', (chunk) => { received += chunk.length; });
  socket.write(request);
  await new Promise((resolve) => socket.on('end', resolve));
  socket.destroy(); // libuv closes the fd with syscall(SYS_close)
  await new Promise((resolve) => socket.on('close', resolve));
  fs.writeFileSync(reportFile, `${Buffer.byteLength(request)} ${received}\n`);
  setTimeout(() => process.exit(0), Number(holdMs));
}

main().catch((err) => { console.error(err); process.exit(1); });
