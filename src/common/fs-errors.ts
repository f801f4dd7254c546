// Local file-system errors in words: what a user reads instead of errno text such as
// "ENOENT: no such file or directory, open 'nope.yaml'".

/** "no such file", "permission denied"…, or the error's own message for anything else. */
export function describeFsError(err: unknown): string {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
