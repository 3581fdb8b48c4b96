import { exitNow } from '../../deployers/plugin-guard.js';
import { setMaxListeners } from 'node:events';
import type { ApplyEvent } from '../../apply/events.js';

/**
 * First SIGINT/SIGTERM: start no new step (`stop`); second: stop running verbs (`kill`) and
 * leave shortly after, whatever they do. `dispose` removes the handlers.
 */
export function interruptHandlers(report: (e: ApplyEvent) => void): {
  stop: AbortSignal;
  kill: AbortSignal;
  dispose(): void;
} {
  const stop = new AbortController();
  const kill = new AbortController();
  // Every running step listens on these; many parallel steps are normal, not a leak.
  setMaxListeners(0, stop.signal, kill.signal);
  const onSignal = () => {
    if (!stop.signal.aborted) {
      report({ type: 'interrupting', hard: false });
      stop.abort();
    } else if (!kill.signal.aborted) {
      report({ type: 'interrupting', hard: true });
      kill.abort();
      // Give running verbs a moment to record their outcome, then leave regardless.
      setTimeout(() => exitNow(130), 3000).unref();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    kill: kill.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
