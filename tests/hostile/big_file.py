# tries: write a 64 MiB file in its own scratch folder (the file size limit is 16 MiB).
# expect: error: File too large
def backward_propagation_n(X, Y, cache):
    block = b"x" * (1024 * 1024)
    with open("big.bin", "wb") as big:
        for _ in range(64):
            big.write(block)
    return {}
