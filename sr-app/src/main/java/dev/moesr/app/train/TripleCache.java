package dev.moesr.app.train;

import dev.moesr.app.image.MatlabResize;
import dev.moesr.diffusion.sampling.DdimSampler;
import dev.moesr.diffusion.sampling.Denoiser;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The (LR, latent, HR) triples stage 2 trains on: the latent is what the trained stage-1 sampler
 * makes of the LR image, so the decoder learns to correct the sampler's actual output. One
 * safetensors file per triple (triple-00000.safetensors, ...), written atomically; generation
 * skips files already present, so an interrupted generation resumes where it stopped.
 */
public final class TripleCache {
    /** One triple, batch of 1: LR upscaled (MATLAB bicubic) to the HR size, latent, HR; all in [-1, 1] but the latent. */
    public record Triple(Tensor lrUpscaled, Tensor latent, Tensor hr) {
        public void release() {
            lrUpscaled.release();
            latent.release();
            hr.release();
        }
    }

    private final Path dir;
    private final int count;

    public TripleCache(Path dir, int count) {
        if (count < 1) throw new IllegalArgumentException("--triples must be >= 1, got " + count);
        this.dir = dir;
        this.count = count;
    }

    public int count() { return count; }

    public Path file(int i) { return dir.resolve(String.format("triple-%05d.safetensors", i)); }

    /** Makes the triples not yet on disk; returns how many it made. */
    public int generate(TrainingPatches patches, Denoiser sampler, DdimSampler ddim, int latentChannels, long seed, Device device) throws IOException {
        Files.createDirectories(dir);
        int made = 0;
        for (int i = 0; i < count; i++) {
            if (Files.isRegularFile(file(i))) continue;
            TrainingPatches.Batch b = patches.batch(i, 0, 1, device);
            try {
                int l = patches.latentSize();
                Tensor latent = ddim.sample(sampler, b.condition(), new int[] {1, latentChannels, l, l},
                        new Philox(TrainingPatches.key(seed, i, 1, 0)), null);
                Map<String, Tensor> t = new LinkedHashMap<>();
                t.put("lr", b.lr());
                t.put("latent", latent);
                t.put("hr", b.hr());
                SafeTensors.write(file(i), t, Map.of("index", Integer.toString(i)));
                latent.release();
            } finally {
                b.release();
            }
            made++;
        }
        return made;
    }

    /** The triples of micro-batch m of step s of a run: indices drawn from a generator keyed by (seed, s, m), stacked on the batch axis. */
    public Triple batch(long seed, long step, int micro, int size, Device device) throws IOException {
        SplittableRandom rng = new SplittableRandom(TrainingPatches.key(seed, step, 2, micro));
        Tensor[] up = new Tensor[size], lat = new Tensor[size], hr = new Tensor[size];
        try {
            for (int i = 0; i < size; i++) {
                int index = rng.nextInt(count);
                SafeTensors.Contents c = SafeTensors.read(file(index));
                Tensor lr = c.tensors().get("lr"), h = c.tensors().get("hr"), z = c.tensors().get("latent");
                if (lr == null || h == null || z == null) throw new IOException(file(index) + " is not a stage-2 triple (needs lr, latent and hr)");
                int H = h.dim(2), W = h.dim(3);
                float[] upscaled = MatlabResize.resizeTo(lr.toFloatArray(), 3, lr.dim(2), lr.dim(3), H, W);
                for (int j = 0; j < upscaled.length; j++) upscaled[j] = Math.max(-1f, Math.min(1f, upscaled[j]));
                up[i] = Tensor.of(device, upscaled, 1, 3, H, W);
                lat[i] = z.to(device);
                hr[i] = h.to(device);
                for (Tensor t : c.tensors().values()) if (t != lat[i] && t != hr[i]) t.release();
            }
            return new Triple(Tensor.cat(0, up), Tensor.cat(0, lat), Tensor.cat(0, hr));
        } finally {
            for (Tensor[] ts : new Tensor[][] {up, lat, hr}) for (Tensor t : ts) if (t != null) t.release();
        }
    }
}
