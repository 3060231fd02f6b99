// Runs the kernels of native/*.cu on the CPU (through cuda_host_emulation.h) against plain
// reference loops, on seeded random cases. It cannot show that the kernels are fast or that
// they behave on a GPU, but it does exercise their index arithmetic, block reductions, barriers
// and shuffles, and the edge cases (ties, NaN, empty, out-of-range indices), on a machine
// without a GPU. Built and run by run.sh (and so by the cuda-kernels Maven build).
#include "cuda_host_emulation.h"

#include "../binary.cu"
#include "../complex.cu"
#include "../copy.cu"
#include "../fill.cu"
#include "../index.cu"
#include "../norm.cu"
#include "../optim.cu"
#include "../pool.cu"
#include "../reduce.cu"
#include "../unary.cu"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace {

int failures = 0, checks = 0, blockReductions = 0;

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {   // splitmix64
        uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    int range(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }
    float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 11) * 0x1.0p-53); }
};

void expect(bool ok, const std::string& what) {
    checks++;
    if (!ok) {
        failures++;
        if (failures <= 30) std::printf("FAIL: %s\n", what.c_str());
    }
}

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, 4) == 0; }

bool close(float got, double ref, double tol) {
    if (std::isnan(ref)) return std::isnan(got);
    return std::fabs(got - ref) <= tol * (1 + std::fabs(ref));
}

Dims dims(const std::vector<long long>& v) {
    Dims d{};
    for (size_t i = 0; i < v.size(); i++) d.v[i] = v[i];
    return d;
}

std::vector<long long> contiguous(const std::vector<long long>& shape) {
    std::vector<long long> s(shape.size());
    long long acc = 1;
    for (int i = (int)shape.size() - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
    return s;
}

long long numel(const std::vector<long long>& shape) {
    long long n = 1;
    for (long long d : shape) n *= d;
    return n;
}

// ---- reductions ----------------------------------------------------------------------------

void checkReduce(Rng& r, int c) {
    int rank = r.range(1, 4);
    std::vector<long long> shape(rank);
    for (auto& d : shape) d = r.range(1, 6);
    bool longRow = r.range(0, 2) == 0;
    if (longRow) shape[r.range(0, rank - 1)] = r.range(100, 700);
    if (r.range(0, 9) == 0) shape[r.range(0, rank - 1)] = 0;   // empty
    long long n = numel(shape);
    std::vector<float> x(n);
    for (auto& v : x) v = r.uniform(-5, 5);
    for (long long i = 0; i < n / 20; i++) x[r.next() % n] = 2.5f;                       // ties
    if (n > 0 && r.range(0, 3) == 0) x[r.next() % n] = std::numeric_limits<float>::quiet_NaN();
    std::vector<long long> strides = contiguous(shape);
    for (int op = ROP_SUM; op <= ROP_ARGMIN; op++) {
        std::vector<bool> red(rank);
        if (op >= ROP_ARGMAX) red[r.range(0, rank - 1)] = true;
        else for (int i = 0; i < rank; i++) red[i] = r.range(0, 1);
        std::vector<long long> kept(rank), rs(rank);
        for (int i = 0; i < rank; i++) { kept[i] = red[i] ? 1 : shape[i]; rs[i] = red[i] ? shape[i] : 1; }
        long long nOut = numel(kept), nRed = numel(rs);
        // reference: walk kept positions, then reduced positions, both row-major
        std::vector<float> ref(nOut);
        std::vector<long long> ks = contiguous(kept), rss = contiguous(rs);
        for (long long o = 0; o < nOut; o++) {
            long long base = 0;
            for (int d = 0; d < rank; d++) base += (o / ks[d]) % kept[d] * strides[d];
            double sum = 0;
            float best = 0;
            long long at = -1;
            for (long long q = 0; q < nRed; q++) {
                long long off = base;
                for (int d = 0; d < rank; d++) off += (q / rss[d]) % rs[d] * strides[d];
                float v = x[off];
                sum += v;
                bool wantMax = op == ROP_MAX || op == ROP_ARGMAX;
                bool take = at < 0 || (std::isnan(v) && !std::isnan(best)) ||
                            (!std::isnan(best) && !std::isnan(v) && (wantMax ? v > best : v < best));
                if (take) { best = v; at = q; }
            }
            ref[o] = op == ROP_SUM ? (float)sum
                   : op <= ROP_MIN ? (at < 0 ? std::numeric_limits<float>::quiet_NaN() : best)
                   : (float)(at < 0 ? 0 : at);
        }
        for (int variant = 0; variant < 3; variant++) {
            if (variant >= 1 && nOut > 24) continue;   // a block per output: emulated barriers are slow
            if (variant == 2 && op != ROP_SUM) continue;   // the split sum
            if (variant >= 1) blockReductions++;
            std::vector<float> out(nOut, 12345.f);
            Dims kShape = dims(kept), kStr = dims(strides), rShape = dims(rs), rStr = dims(strides);
            if (variant == 0) {
                emu_launch(2, 32, [&] { moesr_reduce_thread(op, x.data(), out.data(), nOut, nRed, rank, kShape, kStr, rank, rShape, rStr); });
            } else if (variant == 1) {
                unsigned block = c % 8 == 0 ? 256 : 64;   // the backend uses 128/256; the kernel takes any power of two >= 32
                emu_launch(2, block, [&] { moesr_reduce_block(op, x.data(), out.data(), nOut, nRed, rank, kShape, kStr, rank, rShape, rStr); });
            } else {
                long long splits = 1 + c % 5;   // more splits than elements leaves empty ranges: they must add 0
                std::vector<double> partial(nOut * splits, 777.0);
                emu_launch(3, 32, [&] { moesr_reduce_sum_partial(x.data(), partial.data(), nOut, nRed, splits, rank, kShape, kStr, rank, rShape, rStr); });
                emu_launch(1, 32, [&] { moesr_reduce_sum_finish(partial.data(), out.data(), nOut, splits); });
            }
            for (long long o = 0; o < nOut; o++) {
                bool ok = op == ROP_SUM ? close(out[o], ref[o], 1e-6) : same(out[o], ref[o]);
                if (!ok) {
                    expect(false, "reduce case " + std::to_string(c) + " op " + std::to_string(op) + (variant == 2 ? " split" : variant ? " block" : " thread") +
                           " out " + std::to_string(o) + ": got " + std::to_string(out[o]) + " want " + std::to_string(ref[o]));
                    break;
                }
            }
            expect(true, "reduce");
        }
    }
}

// ---- softmax ---------------------------------------------------------------------------------

void checkSoftmax(Rng& r, int c) {
    int rows = r.range(1, 5);
    int cols = std::vector<int>{1, 7, 33, 300}[r.range(0, 3)];
    unsigned block = 32;
    while (block < 256 && block < (unsigned)cols) block <<= 1;   // CudaBackend.rowBlock
    if (c % 4 != 0 && block > 64) block = 64;                    // keep the emulation quick; any power of two works
    std::vector<float> x(rows * cols), g(rows * cols);
    for (auto& v : x) v = r.uniform(-8, 8);
    for (auto& v : g) v = r.uniform(-1, 1);
    for (int log = 0; log < 2; log++) {
        std::vector<float> y(x.size()), gi(x.size());
        emu_launch(2, block, [&] { moesr_softmax(x.data(), y.data(), rows, cols, log); });
        if (!log && c % 2 == 0) {   // the register-cached kernel (rows of at most 8 per thread), checked against the same reference
            unsigned cachedBlock = 32;
            while (cachedBlock * 8 < (unsigned)cols) cachedBlock <<= 1;
            emu_launch(2, cachedBlock, [&] { moesr_softmax_cached(x.data(), y.data(), rows, cols); });
        }
        emu_launch(2, block, [&] { moesr_softmax_backward(y.data(), g.data(), gi.data(), rows, cols, log); });
        for (int i = 0; i < rows; i++) {
            double m = -INFINITY, s = 0, dot = 0, gs = 0;
            for (int j = 0; j < cols; j++) m = std::max(m, (double)x[i * cols + j]);
            for (int j = 0; j < cols; j++) s += std::exp(x[i * cols + j] - m);
            for (int j = 0; j < cols; j++) {
                double p = std::exp(x[i * cols + j] - m) / s;
                dot += g[i * cols + j] * p;
                gs += g[i * cols + j];
            }
            for (int j = 0; j < cols; j++) {
                int k = i * cols + j;
                double p = std::exp(x[k] - m) / s;
                double want = log ? x[k] - m - std::log(s) : p;
                double wantGrad = log ? g[k] - p * gs : p * (g[k] - dot);
                expect(close(y[k], want, 1e-6), "softmax case " + std::to_string(c) + " log " + std::to_string(log) + " at " + std::to_string(k));
                expect(close(gi[k], wantGrad, 1e-5), "softmax backward case " + std::to_string(c) + " log " + std::to_string(log) + " at " + std::to_string(k));
            }
        }
    }
}

// ---- pooling ----------------------------------------------------------------------------------

void checkPool(Rng& r, int c) {
    int k = r.range(1, 3), s = r.range(1, 3), p = r.range(0, k / 2);
    int planes = r.range(1, 3), H = r.range(k, 11), W = r.range(k, 11);
    int OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
    std::vector<float> x(planes * H * W), g(planes * OH * OW);
    for (auto& v : x) v = r.uniform(-3, 3);
    for (size_t i = 0; i < x.size() / 8; i++) x[r.next() % x.size()] = 1.f;   // ties
    for (auto& v : g) v = r.uniform(-1, 1);
    std::vector<float> y(g.size()), am(g.size()), gx(x.size(), 99.f), ya(g.size()), gxa(x.size(), 99.f);
    emu_launch(2, 64, [&] { moesr_maxpool2d(x.data(), y.data(), am.data(), planes, H, W, OH, OW, k, k, s, s, p, p); });
    emu_launch(2, 64, [&] { moesr_maxpool2d_backward(g.data(), am.data(), gx.data(), planes, H, W, OH, OW, k, k, s, s, p, p); });
    emu_launch(2, 64, [&] { moesr_avgpool2d(x.data(), ya.data(), planes, H, W, OH, OW, k, k, s, s, p, p); });
    emu_launch(2, 64, [&] { moesr_avgpool2d_backward(g.data(), gxa.data(), planes, H, W, OH, OW, k, k, s, s, p, p); });
    std::vector<double> refGx(x.size()), refGxa(x.size());
    for (int pl = 0; pl < planes; pl++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                float best = 0;
                int at = -1;
                double sum = 0;
                for (int a = 0; a < k; a++) {
                    for (int b = 0; b < k; b++) {
                        int ih = oh * s - p + a, iw = ow * s - p + b;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        float v = x[(pl * H + ih) * W + iw];
                        sum += v;
                        if (at < 0 || v > best) { best = v; at = ih * W + iw; }
                    }
                }
                int o = (pl * OH + oh) * OW + ow;
                expect(same(y[o], best) && am[o] == (float)at, "max pool case " + std::to_string(c) + " out " + std::to_string(o));
                expect(close(ya[o], sum / (k * k), 1e-6), "avg pool case " + std::to_string(c) + " out " + std::to_string(o));
                refGx[pl * H * W + at] += g[o];   // scatter form, as the CPU would do it
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++) {
                        int ih = oh * s - p + a, iw = ow * s - p + b;
                        if (ih >= 0 && ih < H && iw >= 0 && iw < W) refGxa[(pl * H + ih) * W + iw] += g[o] / (double)(k * k);
                    }
            }
        }
    }
    for (size_t i = 0; i < x.size(); i++) {
        expect(close(gx[i], refGx[i], 1e-6), "max pool backward case " + std::to_string(c) + " at " + std::to_string(i));
        expect(close(gxa[i], refGxa[i], 1e-6), "avg pool backward case " + std::to_string(c) + " at " + std::to_string(i));
    }
}

// ---- indexing -----------------------------------------------------------------------------------

void checkIndexing(Rng& r, int c) {
    long long outer = r.range(1, 3), axis = r.range(1, 6), inner = r.range(1, 4), count = r.range(0, 8);
    std::vector<float> x(outer * axis * inner), idx(count), y(outer * count * inner), go(y.size()), gx(x.size(), 0.f);
    for (auto& v : x) v = r.uniform(-2, 2);
    for (auto& v : idx) v = (float)r.range(0, (int)axis - 1);
    for (auto& v : go) v = r.uniform(-1, 1);
    int err = 0;
    emu_launch(2, 64, [&] { moesr_index_select(x.data(), idx.data(), y.data(), outer, axis, inner, count, &err); });
    emu_launch(2, 64, [&] { moesr_index_select_backward(go.data(), idx.data(), gx.data(), outer, axis, inner, count, &err); });
    std::vector<double> refGx(x.size());
    for (long long o = 0; o < outer; o++)
        for (long long j = 0; j < count; j++)
            for (long long i = 0; i < inner; i++) {
                long long e = (o * count + j) * inner + i, src = (o * axis + (long long)idx[j]) * inner + i;
                expect(same(y[e], x[src]), "index select case " + std::to_string(c));
                refGx[src] += go[e];
            }
    for (size_t i = 0; i < x.size(); i++) expect(close(gx[i], refGx[i], 1e-6), "index select backward case " + std::to_string(c));
    expect(err == 0, "index select: no error flag for good indices");

    // gather along a random dim of a rank-3 tensor
    std::vector<long long> xs = {r.range(1, 4), r.range(1, 4), r.range(1, 4)};
    int dim = r.range(0, 2);
    std::vector<long long> is = xs;
    for (int d = 0; d < 3; d++) is[d] = d == dim ? r.range(1, 5) : r.range(1, (int)xs[d]);
    std::vector<float> xv(numel(xs)), iv(numel(is)), out(numel(is)), gout(numel(is)), gxv(numel(xs), 0.f);
    for (auto& v : xv) v = r.uniform(-2, 2);
    for (auto& v : iv) v = (float)r.range(0, (int)xs[dim] - 1);
    for (auto& v : gout) v = r.uniform(-1, 1);
    Dims ish = dims(is), xst = dims(contiguous(xs));
    long long n = numel(is);
    emu_launch(2, 64, [&] { moesr_gather(xv.data(), iv.data(), out.data(), n, 3, ish, xst, dim, xs[dim], &err); });
    emu_launch(2, 64, [&] { moesr_gather_backward(gout.data(), iv.data(), gxv.data(), n, 3, ish, xst, dim, xs[dim], &err); });
    std::vector<double> refG(xv.size());
    for (long long a = 0; a < is[0]; a++)
        for (long long b = 0; b < is[1]; b++)
            for (long long q = 0; q < is[2]; q++) {
                long long pidx = (a * is[1] + b) * is[2] + q;
                long long co[3] = {a, b, q};
                co[dim] = (long long)iv[pidx];
                long long src = (co[0] * xs[1] + co[1]) * xs[2] + co[2];
                expect(same(out[pidx], xv[src]), "gather case " + std::to_string(c) + " dim " + std::to_string(dim));
                refG[src] += gout[pidx];
            }
    for (size_t i = 0; i < xv.size(); i++) expect(close(gxv[i], refG[i], 1e-6), "gather backward case " + std::to_string(c));
    expect(err == 0, "gather: no error flag for good indices");

    // bad indices: flagged, and nothing outside the tensors is touched
    std::vector<float> bad = {(float)axis, -1.f, std::numeric_limits<float>::quiet_NaN(), 1e30f, 0.5f};
    std::vector<float> y2(outer * 5 * inner, 7.f);
    emu_launch(1, 32, [&] { moesr_index_select(x.data(), bad.data(), y2.data(), outer, axis, inner, 5, &err); });
    expect(err == MOESR_ERR_INDEX_SELECT, "index select flags out-of-range indices");
    for (float v : y2) expect(v == 0.f, "index select writes 0 for a bad index");
}

// ---- strided copy, broadcast binary, complex product ------------------------------------------------

void checkStrided(Rng& r, int c) {
    int rank = r.range(1, 5);
    std::vector<long long> shape(rank);
    for (auto& d : shape) d = r.range(1, 5);
    long long n = numel(shape);
    // source strides: contiguous strides of a permuted shape, some set to 0 (broadcast)
    std::vector<long long> srcStrides(rank);
    long long acc = 1;
    std::vector<int> perm(rank);
    for (int i = 0; i < rank; i++) perm[i] = i;
    for (int i = rank - 1; i > 0; i--) std::swap(perm[i], perm[r.range(0, i)]);
    for (int i = rank - 1; i >= 0; i--) { srcStrides[perm[i]] = r.range(0, 3) == 0 ? 0 : acc; acc *= shape[perm[i]]; }
    std::vector<float> src(acc), dst(n, -1.f), b(acc), out(n);
    for (auto& v : src) v = r.uniform(-1, 1);
    for (auto& v : b) v = r.uniform(0.5, 2);
    Dims sh = dims(shape), ss = dims(srcStrides), ds = dims(contiguous(shape));
    emu_launch(2, 64, [&] { moesr_copy_strided(src.data(), dst.data(), n, rank, sh, ss, ds); });
    emu_launch(2, 64, [&] { moesr_binary(BOP_DIV, dst.data(), b.data(), out.data(), n, rank, sh, ds, ss); });
    std::vector<long long> cs = contiguous(shape);
    for (long long i = 0; i < n; i++) {
        long long off = 0;
        for (int d = 0; d < rank; d++) off += (i / cs[d]) % shape[d] * srcStrides[d];
        expect(same(dst[i], src[off]), "strided copy case " + std::to_string(c));
        expect(same(out[i], src[off] / b[off]), "broadcast binary case " + std::to_string(c));
    }
    // complex product: a [n] times a broadcast b (complex, same strides in complex elements), conjugated
    std::vector<float> za(2 * n), zb(2 * acc), zo(2 * n);
    for (auto& v : za) v = r.uniform(-1, 1);
    for (auto& v : zb) v = r.uniform(-1, 1);
    emu_launch(1, 64, [&] { moesr_complex_mul(za.data(), zb.data(), zo.data(), n, rank, sh, ds, ss, 1); });
    for (long long i = 0; i < n; i++) {
        long long off = 0;
        for (int d = 0; d < rank; d++) off += (i / cs[d]) % shape[d] * srcStrides[d];
        double ar = za[2 * i], ai = za[2 * i + 1], br = zb[2 * off], bi = -(double)zb[2 * off + 1];
        expect(same(zo[2 * i], (float)(ar * br - ai * bi)) && same(zo[2 * i + 1], (float)(ar * bi + ai * br)),
               "complex mul case " + std::to_string(c));
    }
}

void checkAverage(Rng& r) {
    long long n = r.range(1, 300);
    int experts = 17;
    std::vector<std::vector<float>> xs(experts, std::vector<float>(n));
    for (auto& x : xs) for (auto& v : x) v = r.uniform(-1, 1);
    std::vector<float> out(n, 55.f);
    for (int from = 0; from < experts; from += 16) {
        Ptrs16 p{};
        int count = std::min(16, experts - from);
        for (int k = 0; k < count; k++) p.p[k] = xs[from + k].data();
        emu_launch(1, 64, [&] { moesr_average(out.data(), n, count, p, 1.f / experts, from > 0); });
    }
    for (long long i = 0; i < n; i++) {
        double m = 0;
        for (auto& x : xs) m += x[i];
        expect(close(out[i], m / experts, 1e-6), "average of 17 at " + std::to_string(i));
    }
}

// ---- group norm ----------------------------------------------------------------------------------

// The forward and backward kernels in the order CudaBackend launches them, against double loops
// straight from the definitions (two-pass statistics, the textbook gradient).
void checkGroupNorm(Rng& r, int c) {
    int n = r.range(1, 2), groups = r.range(1, 3), perGroup = r.range(1, 3);
    int channels = groups * perGroup;
    long long spatial = std::vector<int>{1, 3, 17, 70, 12}[r.range(0, 4)];
    bool offset = c % 5 == 4, silu = c % 2 == 1, hasW = c % 3 != 0, hasB = c % 4 != 1;
    float eps = c % 7 == 0 ? 0.1f : 1e-5f;
    long long total = n * channels * spatial, groupSize = perGroup * spatial, groupCount = (long long)n * groups;
    std::vector<float> x(total), go(total), w(channels), b(channels);
    for (auto& v : x) v = r.uniform(-2, 2) + (offset ? 1000.f : 0.f);
    for (auto& v : go) v = r.uniform(-1, 1);
    for (auto& v : w) v = r.uniform(-1.5, 1.5);
    for (auto& v : b) v = r.uniform(-1.5, 1.5);
    const float* wp = hasW ? w.data() : nullptr;
    const float* bp = hasB ? b.data() : nullptr;
    unsigned block = c % 3 == 0 ? 64 : 32;
    std::vector<float> mean(groupCount, 9.f), rstd(groupCount, 9.f), y(total, 9.f), gx(total, 9.f), gw(channels, 9.f), gb(channels, 9.f);
    std::vector<double> sumGa(n * channels), sumGaXhat(n * channels);
    std::vector<float> coef(2 * groupCount);
    emu_launch(2, block, [&] { moesr_group_norm_stats(x.data(), mean.data(), rstd.data(), groupCount, groupSize, eps, groupSize % 4 == 0 ? 1 : 0); });
    // chunks shorter than a row (and not a multiple of the block) exercise the (row, chunk) walk; float4s when rows allow them
    long long chunkLen = c % 2 == 0 ? 8 : 4 * 64;
    int vec = spatial % 4 == 0 && chunkLen % 4 == 0 ? 1 : 0;
    long long rows = (long long)n * channels;
    emu_launch(2, 64, [&] { moesr_group_norm_apply(x.data(), wp, bp, mean.data(), rstd.data(), y.data(), rows, spatial, chunkLen, channels, perGroup, silu, vec); });
    emu_launch(2, block, [&] { moesr_group_norm_backward_rows(go.data(), x.data(), wp, bp, mean.data(), rstd.data(), sumGa.data(), sumGaXhat.data(),
                                                              (long long)n * channels, spatial, channels, perGroup, silu); });
    emu_launch(1, 32, [&] { moesr_group_norm_backward_combine(sumGa.data(), sumGaXhat.data(), wp, coef.data(), gw.data(), gb.data(), n, channels, perGroup, groupSize); });
    emu_launch(2, 64, [&] { moesr_group_norm_backward_x(go.data(), x.data(), wp, bp, mean.data(), rstd.data(), coef.data(), gx.data(), rows, spatial, chunkLen, channels, perGroup, silu); });

    double tol = offset ? 5e-4 : 1e-4;
    std::string name = "group norm case " + std::to_string(c) + (silu ? " silu" : "") + (offset ? " offset 1000" : "");
    std::vector<double> refGw(channels), refGb(channels);
    for (long long grp = 0; grp < groupCount; grp++) {
        const float* xg = x.data() + grp * groupSize;
        double m = 0, var = 0;
        for (long long i = 0; i < groupSize; i++) m += xg[i];
        m /= groupSize;
        for (long long i = 0; i < groupSize; i++) var += (xg[i] - m) * (xg[i] - m);
        var /= groupSize;
        double rs = 1 / std::sqrt(var + eps);
        expect(close(mean[grp], m, 1e-6), name + ": mean of group " + std::to_string(grp));
        expect(close(rstd[grp], rs, 1e-5), name + ": rstd of group " + std::to_string(grp));
        // ga = g * silu'(a); gx = rs * (ga w - mean(ga w) - xhat * mean(ga w xhat))
        std::vector<double> xhat(groupSize), gaw(groupSize);
        double m1 = 0, m2 = 0;
        for (long long i = 0; i < groupSize; i++) {
            int ch = (int)((grp % groups) * perGroup + i / spatial);
            double wc = hasW ? w[ch] : 1, bc = hasB ? b[ch] : 0;
            xhat[i] = (xg[i] - m) * rs;
            double a = xhat[i] * wc + bc, s = 1 / (1 + std::exp(-a));
            double want = silu ? a * s : a;
            long long e = grp * groupSize + i;
            expect(close(y[e], want, tol), name + ": output " + std::to_string(e));
            double ga = go[e] * (silu ? s * (1 + a * (1 - s)) : 1);
            gaw[i] = ga * wc;
            m1 += gaw[i] / groupSize;
            m2 += gaw[i] * xhat[i] / groupSize;
            refGb[ch] += ga;
            refGw[ch] += ga * xhat[i];
        }
        for (long long i = 0; i < groupSize; i++) {
            long long e = grp * groupSize + i;
            expect(close(gx[e], rs * (gaw[i] - m1 - xhat[i] * m2), tol * 10), name + ": grad x " + std::to_string(e) + " got " +
                   std::to_string(gx[e]) + " want " + std::to_string(rs * (gaw[i] - m1 - xhat[i] * m2)));
        }
    }
    for (int ch = 0; ch < channels; ch++) {
        expect(close(gw[ch], refGw[ch], tol * 10), name + ": grad weight " + std::to_string(ch));
        expect(close(gb[ch], refGb[ch], tol), name + ": grad bias " + std::to_string(ch));
    }
}

}  // namespace

#include <chrono>
static double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int main() {
    Rng r(20261126);
    double t0 = seconds();
    for (int c = 0; c < 40; c++) checkReduce(r, c);
    std::printf("reduce %.1fs\n", seconds() - t0);
    for (int c = 0; c < 12; c++) checkSoftmax(r, c);
    std::printf("softmax %.1fs\n", seconds() - t0);
    for (int c = 0; c < 30; c++) checkPool(r, c);
    std::printf("pool %.1fs\n", seconds() - t0);
    for (int c = 0; c < 30; c++) checkIndexing(r, c);
    std::printf("index %.1fs\n", seconds() - t0);
    for (int c = 0; c < 40; c++) checkStrided(r, c);
    checkAverage(r);
    std::printf("strided %.1fs\n", seconds() - t0);
    for (int c = 0; c < 24; c++) checkGroupNorm(r, c);
    std::printf("group norm %.1fs\n", seconds() - t0);
    std::printf("host-check: %d checks (%d block reductions), %d failed\n", checks, blockReductions, failures);
    return failures == 0 ? 0 : 1;
}
