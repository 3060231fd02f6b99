package dev.moesr.app.image;

import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.imaging.png.PngMetadataReader;
import com.drew.imaging.tiff.TiffMetadataReader;
import com.drew.imaging.webp.WebpMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import com.drew.metadata.jpeg.JpegDirectory;
import com.drew.metadata.jpeg.JpegReader;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * What ImageFiles needs from a file's metadata beyond its pixels, read with Drew Noakes'
 * metadata-extractor: the EXIF orientation (JPEG APP1, PNG eXIf, TIFF's first IFD, WebP EXIF)
 * and the component count of a JPEG frame. Metadata that cannot be parsed counts as absent: a
 * damaged EXIF block never stops a photo from being read.
 */
final class FileMetadata {
    private FileMetadata() {}

    /** Opens the file (or the bytes) from the start, once per question asked. */
    interface Source {
        InputStream open() throws IOException;
    }

    /** The EXIF orientation (1..8) of a file in {@code format} ("jpeg", "png", "tiff", "webp"); 1 when there is none. */
    static int orientation(String format, Source source) {
        if (source == null) return 1;
        try (InputStream in = source.open()) {
            Metadata metadata = switch (format) {
                // only the EXIF segments: the other readers would parse XMP, IPTC, thumbnails for nothing
                case "jpeg" -> JpegMetadataReader.readMetadata(in, List.of(new ExifReader()));
                case "png" -> PngMetadataReader.readMetadata(in);
                case "tiff" -> TiffMetadataReader.readMetadata(in);
                case "webp" -> WebpMetadataReader.readMetadata(in);
                default -> null;
            };
            if (metadata == null) return 1;
            for (ExifIFD0Directory d : metadata.getDirectoriesOfType(ExifIFD0Directory.class)) {
                Integer o = d.getInteger(ExifIFD0Directory.TAG_ORIENTATION);
                if (o != null) return o >= 1 && o <= 8 ? o : 1;
            }
            return 1;
        } catch (Exception | StackOverflowError e) {
            return 1;   // unreadable metadata: the pixels as stored
        }
    }

    /** The number of colour components in a JPEG's frame header (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK), or 0 when unknown. */
    static int jpegComponents(Source source) {
        if (source == null) return 0;
        try (InputStream in = source.open()) {
            Metadata metadata = JpegMetadataReader.readMetadata(in, List.of(new JpegReader()));
            JpegDirectory d = metadata.getFirstDirectoryOfType(JpegDirectory.class);
            Integer n = d == null ? null : d.getInteger(JpegDirectory.TAG_NUMBER_OF_COMPONENTS);
            return n == null ? 0 : n;
        } catch (Exception e) {
            return 0;
        }
    }
}
