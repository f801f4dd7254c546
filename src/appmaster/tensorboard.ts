// TensorBoard event files of a run's scalars. Pure: bytes in, bytes out; writing them to HDFS is
// in history-files.ts.
//
// An event file is a TFRecord stream (each record: uint64 length, uint32 masked CRC32C of the
// length, the data, uint32 masked CRC32C of the data; all little-endian) of tensorflow.Event
// messages: first one with file_version "brain.Event:2", then one per (step, scalar) with a
// Summary of simple_value. TensorBoard reads any file whose name contains "tfevents".
import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';
import type { TrainingHistory } from '../protocol';
import eventProtoSource from './tensorboard.proto';

/** The scalar tags horn writes; per-step tags use the global clock as step, per-epoch ones the epoch. */
export const TENSORBOARD_TAGS = {
  loss: 'train/loss',
  accuracy: 'train/accuracy',
  learningRate: 'train/learning_rate',
  samplesPerSecond: 'train/samples_per_second',
  staleness: 'train/staleness',
  epochLoss: 'epoch/loss',
  epochAccuracy: 'epoch/accuracy',
  validationLoss: 'validation/loss',
  validationAccuracy: 'validation/accuracy',
} as const;

const FILE_VERSION = 'brain.Event:2';
/** TFRecord's CRC mask (tensorflow/core/lib/hash/crc32c.h): rotate right by 15, add this. */
const MASK_DELTA = 0xa282ead8;

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, its masked CRC. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** Splits a TFRecord stream back into its records, checking both checksums of each. */
export function readTfRecords(stream: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < stream.length) {
    if (stream.length - at < 12) throw new RangeError(`truncated TFRecord header at byte ${at}`);
    const length = Number(stream.readBigUInt64LE(at));
    if (stream.readUInt32LE(at + 8) !== maskedCrc32c(stream.subarray(at, at + 8))) throw new RangeError(`bad length checksum at byte ${at}`);
    const data = stream.subarray(at + 12, at + 12 + length);
    if (data.length !== length || stream.length < at + 16 + length) throw new RangeError(`truncated TFRecord at byte ${at}`);
    if (stream.readUInt32LE(at + 12 + length) !== maskedCrc32c(data)) throw new RangeError(`bad data checksum at byte ${at}`);
    records.push(data);
    at += 16 + length;
  }
  return records;
}

export interface ScalarEvent {
  /** Seconds since the Unix epoch. */
  readonly wallTime: number;
  readonly step: number;
  readonly tag: string;
  readonly value: number;
}

let eventType: protobuf.Type | undefined;
function event(): protobuf.Type {
  if (!eventType) {
    const root = protobuf.parse(eventProtoSource, new protobuf.Root()).root;
    root.resolveAll();
    eventType = root.lookupType('tensorflow.Event');
  }
  return eventType;
}

function encodeEvent(message: Record<string, unknown>): Uint8Array {
  const type = event();
  return type.encode(type.fromObject(message)).finish();
}

/** The scalars of a run's history, in the order TensorBoard expects them (by time). */
export function historyScalars(history: TrainingHistory, startedAt: number): ScalarEvent[] {
  const out: ScalarEvent[] = [];
  const push = (t: number, step: number, tag: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) out.push({ wallTime: (startedAt + t) / 1000, step, tag, value });
  };
  for (const p of history.steps) {
    push(p.t, p.clock, TENSORBOARD_TAGS.loss, p.loss);
    push(p.t, p.clock, TENSORBOARD_TAGS.accuracy, p.accuracy);
    push(p.t, p.clock, TENSORBOARD_TAGS.learningRate, p.learningRate);
    push(p.t, p.clock, TENSORBOARD_TAGS.samplesPerSecond, p.samplesPerSecond);
    push(p.t, p.clock, TENSORBOARD_TAGS.staleness, p.staleness);
  }
  for (const p of history.epochs) {
    push(p.t, p.epoch, TENSORBOARD_TAGS.epochLoss, p.loss);
    push(p.t, p.epoch, TENSORBOARD_TAGS.epochAccuracy, p.accuracy);
    push(p.t, p.epoch, TENSORBOARD_TAGS.validationLoss, p.validationLoss);
    push(p.t, p.epoch, TENSORBOARD_TAGS.validationAccuracy, p.validationAccuracy);
  }
  return out.sort((a, b) => a.wallTime - b.wallTime);
}

/** A whole event file: the version record, then one record per scalar. */
export function encodeEventFile(scalars: readonly ScalarEvent[], createdAt: number): Buffer {
  const records = [tfRecord(encodeEvent({ wallTime: createdAt / 1000, fileVersion: FILE_VERSION }))];
  for (const s of scalars) {
    records.push(tfRecord(encodeEvent({ wallTime: s.wallTime, step: s.step, summary: { value: [{ tag: s.tag, simpleValue: s.value }] } })));
  }
  return Buffer.concat(records);
}

/** Decodes an event file (for tests and checks): every scalar in it. */
export function decodeEventFile(file: Buffer): { fileVersion?: string; scalars: ScalarEvent[] } {
  const type = event();
  let fileVersion: string | undefined;
  const scalars: ScalarEvent[] = [];
  for (const record of readTfRecords(file)) {
    const e = type.toObject(type.decode(record), { longs: Number }) as { wallTime?: number; step?: number; fileVersion?: string; summary?: { value?: { tag: string; simpleValue?: number }[] } };
    if (e.fileVersion) fileVersion = e.fileVersion;
    for (const v of e.summary?.value ?? []) if (v.simpleValue !== undefined) scalars.push({ wallTime: e.wallTime ?? 0, step: e.step ?? 0, tag: v.tag, value: v.simpleValue });
  }
  return { fileVersion, scalars };
}

/** TensorBoard's file name convention: events.out.tfevents.<seconds>.<host>. */
export function eventFileName(createdAt: number, host: string): string {
  return `events.out.tfevents.${Math.floor(createdAt / 1000)}.${host.replace(/[^A-Za-z0-9.-]/g, '_')}`;
}
