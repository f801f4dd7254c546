import { HornError } from '../../common/errors';

/**
 * The Hadoop client configuration is missing, unreadable or lacks what horn needs. Always a
 * 'cluster' (environment) problem, so the `horn` command exits 4; `file` and `property` say where
 * to look.
 */
export class HadoopConfigurationError extends HornError {
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly property: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, 'cluster', { file, property }, options);
  }
}
