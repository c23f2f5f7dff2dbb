# tries: write files outside its scratch folder: /tmp, the parent of its folder, the home of the grader.
# expect: error: outside the scratch folder
import os


def backward_propagation_n(X, Y, cache):
    with open("scratch-is-fine.txt", "w") as inside:
        inside.write("allowed")
    for path in ("/tmp/gradgrade-hostile-escape", "../gradgrade-hostile-escape",
                 os.path.expanduser("~root/gradgrade-hostile-escape")):
        with open(path, "w") as outside:
            outside.write("escaped")
    return {}
