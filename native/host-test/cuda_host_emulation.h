// Just enough of CUDA to run our kernels on the CPU, for native/host-test only: every thread of
// a block is a std::thread, __syncthreads is a block barrier, warp shuffles use a per-warp
// barrier, __shared__ variables are statics (blocks run one after another), atomics are host
// atomics. It checks kernel logic (indexing, reduction trees, synchronisation), not speed or
// the GPU's math library.
#ifndef MOESR_CUDA_HOST_EMULATION_H
#define MOESR_CUDA_HOST_EMULATION_H

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <math.h>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static

struct EmuDim { unsigned x = 1, y = 1, z = 1; };

// A reusable barrier (mutex and condition variable; libstdc++ 12's std::barrier was seen to hang).
class EmuBarrier {
  public:
    explicit EmuBarrier(unsigned count) : count_(count) {}

    void arrive_and_wait() {
        std::unique_lock<std::mutex> lk(m_);
        unsigned long long gen = generation_;
        if (++arrived_ == count_) {
            arrived_ = 0;
            generation_++;
            cv_.notify_all();
        } else {
            cv_.wait(lk, [&] { return generation_ != gen; });
        }
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    unsigned count_, arrived_ = 0;
    unsigned long long generation_ = 0;
};

inline EmuDim gridDim, blockDim, blockIdx;
inline thread_local EmuDim threadIdx;

inline EmuBarrier* emu_block_barrier = nullptr;
inline EmuBarrier* emu_warp_barrier[32] = {};
inline unsigned char emu_shfl_slots[32][32][8];

inline void __syncthreads() { emu_block_barrier->arrive_and_wait(); }

template <class T>
inline T __shfl_down_sync(unsigned, T v, int delta) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    std::memcpy(emu_shfl_slots[warp][lane], &v, sizeof(T));
    emu_warp_barrier[warp]->arrive_and_wait();
    T r = v;
    if (lane + delta < 32) std::memcpy(&r, emu_shfl_slots[warp][lane + delta], sizeof(T));
    emu_warp_barrier[warp]->arrive_and_wait();
    return r;
}

inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
inline int atomicOr(int* p, int v) { return std::atomic_ref<int>(*p).fetch_or(v); }

struct alignas(16) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return std::exp(x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }

// A pool of worker threads, made once and reused for every block (making threads per block
// costs far more than the kernels). Worker i plays threadIdx.x = i.
struct EmuPool {
    std::mutex m;
    std::condition_variable cv;
    unsigned long long generation = 0;
    unsigned active = 0;
    const std::function<void()>* job = nullptr;
    unsigned remaining = 0;   // threads of the current block still running
    unsigned workers = 0;
};

inline EmuPool& emu_pool() {
    static EmuPool* pool = new EmuPool();   // never destroyed: detached workers wait on it at exit
    return *pool;
}

inline void emu_worker(unsigned id) {
    EmuPool& p = emu_pool();
    unsigned long long seen = 0;
    for (;;) {
        std::unique_lock<std::mutex> lk(p.m);
        p.cv.wait(lk, [&] { return p.generation != seen; });
        seen = p.generation;
        bool mine = id < p.active;
        const std::function<void()>* job = p.job;
        lk.unlock();
        if (mine) {
            threadIdx = {id, 0, 0};
            (*job)();
            lk.lock();
            if (--p.remaining == 0) p.cv.notify_all();
        }
    }
}

// Runs body() as every thread of a grid x block launch (blocks in turn, threads of a block at once).
template <class F>
void emu_launch(unsigned grid, unsigned block, F body) {
    EmuPool& p = emu_pool();
    while (p.workers < block) std::thread(emu_worker, p.workers++).detach();
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    std::function<void()> job = body;
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = {b, 0, 0};
        EmuBarrier bar(block);
        emu_block_barrier = &bar;
        std::vector<std::unique_ptr<EmuBarrier>> warps;
        for (unsigned w = 0; w * 32 < block; w++) {
            unsigned lanes = block - w * 32 < 32 ? block - w * 32 : 32;
            warps.emplace_back(new EmuBarrier(lanes));
            emu_warp_barrier[w] = warps.back().get();
        }
        std::unique_lock<std::mutex> lk(p.m);
        p.active = block;
        p.job = &job;
        p.remaining = block;
        p.generation++;
        p.cv.notify_all();
        p.cv.wait(lk, [&] { return p.remaining == 0; });
    }
}

#endif
