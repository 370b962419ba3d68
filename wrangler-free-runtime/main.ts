// The runtime's entry: settings, logger, signals. The HTTP app comes from the caller (../main.ts).
import { createLogger } from '../lib/logger.js';
import { type AppFactory, startService } from './service.js';
import { loadSettings, SettingsError } from './settings.js';

export async function run(createApp: AppFactory): Promise<void> {
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`webrecord: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const log = createLogger(settings.LOG_LEVEL);
  let stopping: Promise<void> | null = null;
  try {
    const service = await startService(settings, log, createApp);
    const stop = (signal: string) => {
      if (stopping) return;
      log.info({ signal }, 'stopping');
      stopping = service.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err: String(err) }, 'stopping failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    log.info({ url: service.url }, 'webrecord is running');
  } catch (err) {
    log.fatal({ err: String(err), stack: (err as Error).stack }, 'start-up failed');
    process.exit(1);
  }
}
