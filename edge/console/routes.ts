// GET /console: the operator console (README "Console"), one page and its two scripts and style
// sheet, served from strings (no file read: the edge runs on edge runtimes too). The page calls the
// API as any client does, so it adds no way in; its policy lets it load and call only this service,
// and play media from here and from where the service publishes its files.
import { Hono } from 'hono';
import { APP_SCRIPT } from './app-script.js';
import { CONSOLE_CSS, CONSOLE_PAGE } from './page.js';
import { SIGN_SCRIPT } from './sign-script.js';

export type ConsoleOptions = {
  /** Where the videos the console plays are served besides this origin (the origin of PUBLIC_URL). */
  mediaOrigins?: readonly string[];
};

/** The origins of `urls`, each as a URL would say it (nothing else can reach the header). */
function origins(urls: readonly string[]): string[] {
  return urls.flatMap((u) => {
    try {
      const origin = new URL(u).origin;
      return origin === 'null' ? [] : [origin];
    } catch {
      return [];
    }
  });
}

export function consoleApp(o: ConsoleOptions = {}): Hono {
  const elsewhere = origins(o.mediaOrigins ?? []);
  const media = ["'self'", 'blob:', ...elsewhere].join(' ');
  // The live playlist is read before the player is pointed at it (app-script.ts, liveReady).
  const connect = ["'self'", ...elsewhere].join(' ');
  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${connect}`,
    `media-src ${media}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const headers = (type: string) => ({
    'content-type': type,
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  const app = new Hono({ strict: false });
  app.get('/', (c) => c.body(CONSOLE_PAGE, 200, headers('text/html; charset=utf-8')));
  app.get('/app.js', (c) => c.body(APP_SCRIPT, 200, headers('text/javascript; charset=utf-8')));
  app.get('/sign.js', (c) => c.body(SIGN_SCRIPT, 200, headers('text/javascript; charset=utf-8')));
  app.get('/console.css', (c) => c.body(CONSOLE_CSS, 200, headers('text/css; charset=utf-8')));
  return app;
}
