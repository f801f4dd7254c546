// Typed errors of the data readers. Every one names the file and the absolute byte offset; text
// formats add the 1-based line when it is known (it is known when the range starts at byte 0:
// a reader of a later range has not seen the lines before it).

import { HornError } from '../common/errors';

export class MalformedRecordError extends HornError {
  constructor(
    readonly file: string,
    /** Absolute byte offset where the record starts. */
    readonly offset: number,
    readonly reason: string,
    /** 1-based line number in the file, for text formats when known. */
    readonly line?: number,
  ) {
    super(`${file}: malformed record at byte ${offset}${line !== undefined ? ` (line ${line})` : ''}: ${reason}`, 'input');
  }
}

/** More malformed records than the job allows (`maxMalformed`); carries the one that tipped it over. */
export class TooManyMalformedError extends HornError {
  constructor(readonly file: string, readonly limit: number, readonly last: MalformedRecordError) {
    super(
      limit === 0
        ? last.message
        : `${file}: more than ${limit} malformed record${limit === 1 ? '' : 's'} (maxMalformed: ${limit}); the last: ${last.message}`,
      'input',
    );
  }
}

/** The file as a whole is unusable: a bad IDX header, a truncated file, IDX files that do not pair. */
export class DataFormatError extends HornError {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`${file}: ${reason} (at byte ${offset})`, 'input');
  }
}
