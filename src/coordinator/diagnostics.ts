// Final diagnostics that name what failed. Pure.

export interface ContainerFailure {
  readonly role: string;
  readonly index: number;
  readonly containerId: string;
  readonly host: string;
  readonly exitStatus: number;
  readonly diagnostics?: string;
  readonly stderrTail?: readonly string[];
  /** What horn itself observed (e.g. "exited without reporting a result"). */
  readonly reason?: string;
}

const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  [-100]: 'aborted',
  [-101]: 'disks failed',
  [-102]: 'preempted',
  [-103]: 'killed: exceeded virtual memory',
  [-104]: 'killed: exceeded physical memory',
  [-105]: 'killed by the ApplicationMaster',
  [-106]: 'killed by the ResourceManager',
  [-107]: 'killed after the application completed',
  [-1000]: 'exit status unknown',
};

export function exitMeaning(exitStatus: number): string {
  return EXIT_MEANINGS[exitStatus] ?? (exitStatus > 128 && exitStatus < 160 ? `killed by signal ${exitStatus - 128}` : `exit code ${exitStatus}`);
}

export function describeFailure(f: ContainerFailure): string {
  const lines = [`${f.role} ${f.index} (container ${f.containerId} on ${f.host}) failed with exit status ${f.exitStatus} (${exitMeaning(f.exitStatus)})${f.reason ? `: ${f.reason}` : ''}`];
  const nm = f.diagnostics?.trim();
  if (nm && nm !== 'N/A') lines.push(`NodeManager diagnostics: ${nm.split('\n').slice(0, 5).join(' | ')}`);
  if (f.stderrTail && f.stderrTail.length) lines.push(`last lines of stderr:`, ...f.stderrTail.map((l) => `  ${l}`));
  return lines.join('\n');
}

/** The last `n` non-empty lines of a log, trailing spaces trimmed. */
export function tailLines(text: string, n: number): string[] {
  return text.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l.length > 0).slice(-n);
}
