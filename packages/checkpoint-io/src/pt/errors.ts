// Typed errors of the PyTorch .pt module. Every message names the file (when known) and says what to do.
import { CheckpointIoError } from '../errors.js';

/** Base class of every .pt read/write error. */
export class PtError extends CheckpointIoError {}

/** The file is not a PyTorch checkpoint we can read (neither a torch zip archive nor a legacy pickle stream). */
export class PtFormatError extends PtError {}

/** The file or a record ends before the bytes its own headers promise (a partial copy or an interrupted save). */
export class PtTruncatedError extends PtError {}

/** The pickle stream ended before STOP (the legacy reader catches it to read more of the file). */
export class PickleTruncatedError extends PtTruncatedError {}

/** The zip container is malformed or unsafe (`..` / absolute entry names, entries outside the file, bad headers). */
export class PtZipError extends PtError {}

/** The pickle stream is malformed: bad opcode argument, stack underflow, missing MARK, memo miss, bad STOP. */
export class PickleError extends PtError {}

/** An opcode this reader does not know (or deliberately refuses, like out-of-band buffers or the extension registry). */
export class PickleUnsupportedOpcodeError extends PickleError {
  constructor(
    readonly opcode: number,
    readonly position: number,
    message?: string,
  ) {
    super(
      message ??
        `unknown pickle opcode 0x${opcode.toString(16).padStart(2, '0')} at byte ${position}; ` +
          'the stream is corrupt or was not written by pickle/torch.save',
    );
  }
}

/** A pickle exceeded one of the reader's safety limits (memo size, stack size, integer size, line length). */
export class PickleLimitError extends PickleError {}

/** A known torch global (a tensor rebuild function, torch.Size, a storage) was given arguments torch itself would reject. */
export class PtTorchObjectError extends PtError {}

/** A tensor or storage whose dtype this package cannot convert (complex, quantized, ...). */
export class PtUnsupportedDtypeError extends PtError {}

/** A tensor or storage read after `PtFile.close()`. */
export class PtClosedError extends PtError {}

/** `writePt` was given a value it cannot express as a torch.save file. */
export class PtWriteError extends PtError {}

/**
 * The pickle names globals that are not on the allow-list (os.system, builtins.eval, a user's class...). Nothing
 * was executed — this reader never calls anything — but torch.load would import and call them: the file may be
 * hostile. `globals` lists each one as `module.name`, as written in the file.
 */
export class UnsafePickleError extends PtError {
  readonly globals: readonly string[];
  constructor(
    readonly file: string,
    globals: ReadonlyArray<{ module: string; name: string }>,
    options?: { cause?: unknown },
  ) {
    const names = globals.map((g) => `${g.module}.${g.name}`);
    super(
      `${file}: the pickle calls or names ${names.length} global${names.length === 1 ? '' : 's'} that a checkpoint ` +
        `should not: ${names.join(', ')}. Nothing was executed. Do NOT open this file with torch.load (it would ` +
        'import and run them) unless you trust where it came from. To list every global for forensics run ' +
        '`vla-ckpt inspect --list-globals <file>` (library: readPt(path, { unsafeGlobals: "list" })); if you trust ' +
        'a class, allow it with readPt(path, { allowGlobals: ["module.Class"] }).',
      options,
    );
    this.globals = names;
  }
}
