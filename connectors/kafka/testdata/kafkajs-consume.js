// Reads `want` messages of a topic in a kafkajs consumer group and prints
// them as JSON: key, CloudEvents headers, value. Run by interop_test.go
// (TestKafkajsConsumerGroup) with kafkajs installed beside it.
const { Kafka, logLevel } = require('kafkajs');

const [broker, topic, group, want] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'crmhub-interop', brokers: [broker], logLevel: logLevel.ERROR, retry: { retries: 3 } });
const consumer = kafka.consumer({ groupId: group });

async function main() {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = [];
  await new Promise((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    consumer.run({
      eachMessage: async ({ message }) => {
        const headers = {};
        for (const [k, v] of Object.entries(message.headers || {})) headers[k] = v.toString();
        seen.push({ key: message.key.toString(), headers, value: JSON.parse(message.value.toString()) });
        if (seen.length >= Number(want)) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  process.stdout.write(JSON.stringify(seen) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
