/**
 * The JSON body parser: fastify's own (which refuses __proto__ and constructor.prototype
 * poisoning), except that an empty body is "no body" (so `POST .../rebalance` with a JSON
 * content type and nothing in it is fine) and broken JSON is a 400 that says where it broke.
 */
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../domain/index.js';

export function useJsonBodyParser(server: FastifyInstance): void {
  const strict = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    strict(request, text, (err, value) => {
      if (!err) {
        done(null, value);
        return;
      }
      done(new ValidationError('the request body is not valid JSON', [whereItBroke(text)]), undefined);
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
