#!/usr/bin/env bash
# Training and validation photographs for the shipped model, from Debian packages only.
# Usage: tools/prepare-photos.sh [OUT_DIR]   (default ~/data/photos; writes OUT/train and OUT/val)
#
# Installs (apt-get, as root) plasma-workspace-wallpapers, mate-backgrounds, gnome-backgrounds,
# ukui-wallpapers, python3-skimage (its sample photographs) and imagemagick, then writes each
# chosen picture as a PNG whose longer side is at most 1024 pixels (ImageMagick's default
# Lanczos-windowed resize; metadata stripped). The split is by whole image and fixed by name:
# the validation images (VAL below) never reach training. The four scikit-image photographs of
# the test resources (astronaut, chelsea, coffee, rocket) are validation images, so the demo's
# pictures are ones the model never saw. Licences: docs/default-model.md.
set -euo pipefail
out=${1:-$HOME/data/photos}
pkgs="plasma-workspace-wallpapers mate-backgrounds gnome-backgrounds ukui-wallpapers python3-skimage imagemagick"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || { echo "prepare-photos: missing Debian packages:" $missing "- run as root or install them first" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# name=source; the largest image of each Plasma wallpaper is taken
VAL="plasma-EveningGlow plasma-FallenLeaf mate-LadyBird mate-Storm skimage-astronaut skimage-chelsea skimage-coffee skimage-rocket"
sk=/usr/lib/python3/dist-packages/skimage/data
declare -A src
for w in Autumn BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am Volna \
         Honeywave Flow MilkyWay SafeLanding Autumn; do
  src[plasma-$w]=$(ls -S /usr/share/wallpapers/$w/contents/images/* | head -1)
done
for f in /usr/share/backgrounds/mate/nature/*.jpg; do n=$(basename "${f%.*}"); src[mate-$n]=$f; done
for n in astronaut chelsea coffee motorcycle_left brick grass gravel camera coins moon ihc; do src[skimage-$n]=$sk/$n.png; done
for n in rocket hubble_deep_field retina; do src[skimage-$n]=$sk/$n.jpg; done
for n in licorice-l truchet-l pixels-l wood-l; do src[gnome-$n]=/usr/share/backgrounds/gnome/$n.webp; done
for n in 2004default rhythm string; do src[ukui-$n]=/usr/share/backgrounds/$n.jpg; done

mkdir -p "$out/train" "$out/val"
for name in "${!src[@]}"; do
  split=train
  for v in $VAL; do [ "$v" = "$name" ] && split=val; done
  dest="$out/$split/$name.png"
  [ -s "$dest" ] && continue
  # -colorspace sRGB turns the grey scikit-image pictures into three equal channels
  convert "${src[$name]}" -resize '1024x1024>' -colorspace sRGB -type TrueColor -strip "$dest.tmp.png"
  mv "$dest.tmp.png" "$dest"
done
echo "prepare-photos: $(ls "$out/train" | wc -l) training and $(ls "$out/val" | wc -l) validation images in $out" >&2
