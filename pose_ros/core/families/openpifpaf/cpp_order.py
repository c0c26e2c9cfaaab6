"""The orders libstdc++ gives equal elements in ``std::sort`` and ``std::priority_queue``, which OpenPifPaf's C++
decoder uses for seeds, people and its growth frontier. The C++ standard leaves them open; on fields with exactly
equal values (clean synthetic fields: every cell of a joint saying 1.0) they decide which joint a person grows from,
so decode.py follows them to give OpenPifPaf's own answer there too. Pure Python, ported from GCC 12's
bits/stl_algo.h and bits/stl_heap.h.
"""
from __future__ import annotations

import numpy as np


def std_sort_descending(keys: np.ndarray) -> np.ndarray:
    """The order ``std::sort(..., [](a, b) { return a.v > b.v; })`` leaves elements in, as libstdc++ implements it
    (introsort: median-of-three quicksort to 16-element runs, heapsort past 2 log2(n) levels, final insertion sort).
    With distinct keys that is simply the sorted order; with equal keys (exactly equal seeds, on clean fields) the
    algorithm decides, and which equal seed comes first decides which joint a person grows from."""
    keys = np.asarray(keys)
    n = len(keys)
    if len(np.unique(keys)) == n:
        return np.argsort(-keys, kind="stable")
    a = list(zip(keys.tolist(), range(n)))

    def comp(x, y):
        return x[0] > y[0]

    def adjust_heap(first, hole, length, value):
        top, child = hole, hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if comp(a[first + child], a[first + child - 1]):
                child -= 1
            a[first + hole] = a[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            a[first + hole] = a[first + child - 1]
            hole = child - 1
        parent = (hole - 1) // 2
        while hole > top and comp(a[first + parent], value):
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        a[first + hole] = value

    def heap_sort(first, last):
        length = last - first
        for parent in range((length - 2) // 2, -1, -1):
            adjust_heap(first, parent, length, a[first + parent])
        while last - first > 1:
            last -= 1
            value, a[last] = a[last], a[first]
            adjust_heap(first, 0, last - first, value)

    def introsort_loop(first, last, depth):
        while last - first > 16:
            if depth == 0:
                heap_sort(first, last)
                return
            depth -= 1
            x, y, z = first + 1, first + (last - first) // 2, last - 1   # move median to first
            if comp(a[x], a[y]):
                m = y if comp(a[y], a[z]) else (z if comp(a[x], a[z]) else x)
            else:
                m = x if comp(a[x], a[z]) else (z if comp(a[y], a[z]) else y)
            a[first], a[m] = a[m], a[first]
            lo, hi = first + 1, last                                  # unguarded partition around a[first]
            while True:
                while comp(a[lo], a[first]):
                    lo += 1
                hi -= 1
                while comp(a[first], a[hi]):
                    hi -= 1
                if not lo < hi:
                    break
                a[lo], a[hi] = a[hi], a[lo]
                lo += 1
            introsort_loop(lo, last, depth)
            last = lo

    def linear_insert(i):
        value, j = a[i], i - 1
        while comp(value, a[j]):
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = value

    def insertion_sort(first, last):
        for i in range(first + 1, last):
            if comp(a[i], a[first]):
                value = a[i]
                a[first + 1:i + 1] = a[first:i]
                a[first] = value
            else:
                linear_insert(i)

    if n > 1:
        introsort_loop(0, n, 2 * (n.bit_length() - 1))
        if n > 16:
            insertion_sort(0, 16)
            for i in range(16, n):
                linear_insert(i)
        else:
            insertion_sort(0, n)
    return np.array([index for _, index in a], dtype=np.int64)


class StdPriorityQueue:
    """``std::priority_queue`` (a max-heap on ``key``) as libstdc++ implements it (push_heap / pop_heap / adjust_heap),
    so entries with equal keys come out in the same order as in OpenPifPaf's C++ (the standard leaves it open, and on
    fields with exactly equal values the order decides which connection fills a joint first)."""

    def __init__(self):
        self.items: list = []   # (key, payload)

    def __bool__(self) -> bool:
        return bool(self.items)

    def _sift_up(self, hole: int, top: int, value) -> None:    # std::__push_heap
        items = self.items
        parent = (hole - 1) // 2
        while hole > top and items[parent][0] < value[0]:
            items[hole] = items[parent]
            hole = parent
            parent = (hole - 1) // 2
        items[hole] = value

    def push(self, key: float, payload) -> None:
        self.items.append(None)
        self._sift_up(len(self.items) - 1, 0, (key, payload))

    def pop(self):
        items = self.items
        top = items[0]
        last = items.pop()
        n = len(items)
        if n:                                                  # std::__pop_heap + std::__adjust_heap
            hole, child = 0, 0
            while child < (n - 1) // 2:
                child = 2 * (child + 1)
                if items[child][0] < items[child - 1][0]:
                    child -= 1
                items[hole] = items[child]
                hole = child
            if n % 2 == 0 and child == (n - 2) // 2:
                child = 2 * (child + 1)
                items[hole] = items[child - 1]
                hole = child - 1
            self._sift_up(hole, 0, last)
        return top
