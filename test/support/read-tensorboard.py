"""Reads a TensorBoard event file with TensorBoard's own readers and prints its scalars as JSON.

usage: read-tensorboard.py EVENT_FILE
prints {"records": N, "scalars": {tag: [[step, value], ...]}}
TensorBoard's record reader checks both masked CRC32C checksums of every record and stops at the
first bad one, so a miscoded file shows as missing records and scalars.
"""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator, event_file_loader

path = sys.argv[1]
records = sum(1 for _ in event_file_loader.RawEventFileLoader(path, detect_file_replacement=False).Load())
acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
acc.Reload()
scalars = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
json.dump({"records": records, "scalars": scalars}, sys.stdout)
