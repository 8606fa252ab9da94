/**
 * A standalone DHT bootstrap node on a UDP port.
 *
 *   node --conditions=@peerkit/source --import tsx examples/bootstrap-node.ts [port] [host] [join host:port ...]
 *
 * The routing table is kept in ./dht-bootstrap-state.json between runs. Stop with Ctrl-C.
 */
import { nodeNetwork, parseAddress } from '@peerkit/transport';
import { runBootstrapNode } from '../src/index';

const [portText = '6881', host = '0.0.0.0', ...join] = process.argv.slice(2);
const node = await runBootstrapNode({
  network: nodeNetwork(),
  host,
  port: Number(portText),
  bootstrap: join.map(parseAddress),
  statePath: './dht-bootstrap-state.json',
});
console.log(
  `bootstrap node ${Buffer.from(node.dht.id).toString('hex')} on ${node.address.host}:${node.address.port}`,
);
node.dht.on('node', ({ contact }) =>
  console.log(`+ node ${contact.address.host}:${contact.address.port}`),
);
process.once('SIGINT', () => {
  node.close().then(() => process.exit(0));
});
