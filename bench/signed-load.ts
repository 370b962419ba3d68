// Load with every request signed anew (API.md "Authentication"; a signature may be used once): run as
// its own process, like the autocannon CLI, and prints the same JSON. Signs with node:crypto, as fast
// as a client can, so the figure is the service's cost. Args: url body connections seconds key secret.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

const [url, body, connections, seconds, key, secret] = process.argv.slice(2) as [string, string, string, string, string, string];
const path = new URL(url).pathname.replace(/^\/(release|test|prepub)\//, '/');
const md5 = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');

const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      body,
      setupRequest: (req: Record<string, unknown>) => {
        const date = new Date().toUTCString();
        const source = `bench ${randomUUID()}`;
        const toSign = [`x-date: ${date}`, `source: ${source}`, 'POST', 'application/json', 'application/json', md5, path].join('\n');
        const sig = createHmac('sha1', secret).update(toSign).digest('base64');
        return {
          ...req,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-md5': md5,
            'x-date': date,
            source,
            authorization: `hmac id="${key}", algorithm="hmac-sha1", headers="x-date source", signature="${sig}"`,
          },
        };
      },
    },
  ],
});
process.stdout.write(JSON.stringify(result));
