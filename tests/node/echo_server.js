// A TCP server that answers every connection with what it received, then
// closes; it writes READY_FILE once listening and exits after N connections.
'use strict';
const fs = require('fs');
const net = require('net');

const [port, total, readyFile] = process.argv.slice(2);
let done = 0;
const server = net.createServer((sock) => {
  sock.on('data', (d) => sock.end(d));
  sock.on('close', () => { if (++done === Number(total)) server.close(); });
});
server.listen(Number(port), '127.0.0.1', () => fs.writeFileSync(readyFile, 'up'));
