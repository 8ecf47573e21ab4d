/**
 * The JSON body parser: fastify's own (which refuses __proto__ and constructor.prototype
 * poisoning), except that an empty body is "no body" (so `POST .../rebalance` with a JSON
 * content type and nothing in it is fine), broken JSON is a 400 that says where it broke, and so
 * are bytes that are not UTF-8 and a key given twice in one object (JSON.parse would keep the last).
 */
import type { FastifyInstance } from 'fastify';
import { decodeUtf8, findDuplicateKey } from '../../adapters/json-strict.js';
import { ValidationError } from '../../domain/index.js';

export function useJsonBodyParser(server: FastifyInstance): void {
  const strict = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : decodeUtf8(body);
    if (text === null) {
      done(badBody('the request body is not valid UTF-8', ['body: send JSON encoded as UTF-8']), undefined);
      return;
    }
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    strict(request, text, (err, value) => {
      if (!err) {
        const duplicate = findDuplicateKey(text);
        if (duplicate) {
          done(
            badBody(`the request body has the key ${JSON.stringify(duplicate.key)} twice in one object`, [
              `body: a JSON object's keys must be unique (the second ${JSON.stringify(duplicate.key)} is at character ${duplicate.offset})`,
            ]),
            undefined,
          );
          return;
        }
        done(null, value);
        return;
      }
      done(badBody('the request body is not valid JSON', [whereItBroke(text)]), undefined);
    });
  });
}

function whereItBroke(text: string): string {
  try {
    JSON.parse(text);
    // Valid JSON that the strict parser refused: a prototype-poisoning key.
    return 'body: "__proto__" and "constructor.prototype" keys are not accepted';
  } catch (err) {
    return `body: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * A refused body. It carries the HTTP status too: bull-board's routes (the dashboard) answer with
 * their own error handler, which reads `statusCode` and otherwise says 500.
 */
function badBody(message: string, details: readonly string[]): ValidationError {
  return Object.assign(new ValidationError(message, details), { statusCode: 400 });
}
