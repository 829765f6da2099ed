/**
 * Selection (Hoare's FIND with a median-of-three pivot): the k-th smallest of a typed array in
 * linear expected time, without sorting it. The stats of a day of a million tasks need a few
 * percentiles of a few million runtimes; sorting them all stopped the API's event loop for about
 * 0.3 s, selection takes a fraction of that.
 */

/**
 * Reorders `a[left..right]` (inclusive) so that `a[k]` holds the value a sort would put there,
 * every value before it is ≤ and every value after it is ≥; returns `a[k]`. Needs
 * left ≤ k ≤ right and no NaN.
 */
export function selectKth(a: Float64Array, k: number, left = 0, right = a.length - 1): number {
  if (!(left <= k && k <= right)) throw new RangeError(`selectKth: k = ${k} is outside [${left}, ${right}]`);
  let lo = left;
  let hi = right;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, lo, mid);
    if (a[hi]! < a[lo]!) swap(a, lo, hi);
    if (a[hi]! < a[mid]!) swap(a, mid, hi);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // a[lo..j] ≤ pivot ≤ a[i..hi], and everything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
