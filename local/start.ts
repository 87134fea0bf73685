/**
 * `npm start`: the local services, started and announced, until Ctrl-C.
 */
import { createTable, startDynamoDbLocal, startSesLocal } from './services.js';

const [dynamo, ses] = await Promise.all([startDynamoDbLocal(), startSesLocal()]);
await createTable(dynamo.endpoint, 'keepwell-local');
console.log(`DynamoDB Local   ${dynamo.endpoint} (table keepwell-local)`);
console.log(`SES v2 inbox     ${ses.endpoint}/`);
console.log('Ctrl-C to stop.');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([dynamo.stop(), ses.stop()]);
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
