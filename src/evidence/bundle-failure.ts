import { UserError, errnoCode } from '../lib/user-error.js';
import { DiskFullError } from './space-guard.js';

/**
 * Why a run could not finish its bundle, as the one line (exit 3) the
 * responder sees: the output device filled up, or the stream's reader (an
 * SSH pipe) went away. Any other error is returned as it was.
 */
export function bundleFailure(err: unknown): unknown {
  if (err instanceof DiskFullError) return new UserError(`output device full and the bundle could not be sealed: ${err.message}`, 3);
  if (errnoCode(err) === 'EPIPE') return new UserError('the output stream closed before the bundle was finished (EPIPE)', 3);
  return err;
}
