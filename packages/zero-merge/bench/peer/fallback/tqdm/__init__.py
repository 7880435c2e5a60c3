# Used only where Debian's python3-tqdm is not installed (run.py puts this folder last on sys.path): the same
# iteration as tqdm(iterable, desc=...), without the progress bar. zero_to_fp32 wraps three loops in it.


def tqdm(iterable=None, *args, **kwargs):
    return iterable
