/** A file's chunks in a store (ragstore's GET .../files/{id}/chunks), and finding a search hit's place among them. */

import * as api from "./api.js";

const filePath = (storeId, fileId) =>
  `/vector_stores/${encodeURIComponent(storeId)}/files/${encodeURIComponent(fileId)}`;

/** The chunks in order: {index, page, token_count, text}. */
export async function fileChunks(storeId, fileId) {
  return (await api.get(`${filePath(storeId, fileId)}/chunks`)).data;
}

/** The link that opens a file of a store, its chunk `index` (when known) highlighted. */
export function contextHref(storeId, fileId, index) {
  const base = `#/stores/${encodeURIComponent(storeId)}/files/${encodeURIComponent(fileId)}`;
  return index === undefined || index === null ? base : `${base}?chunk=${index}`;
}

/**
 * Where hits lie in their files: each hit {store, file_id, text} gets {index, page} of the chunk whose text it is (or
 * null). Each file's chunks are read once; a file gone since is no error, its hits stay unplaced.
 */
export async function placeHits(hits) {
  const files = new Map();
  for (const hit of hits) {
    const key = `${hit.store}\u0000${hit.file_id}`;
    if (!files.has(key)) files.set(key, fileChunks(hit.store, hit.file_id).catch(() => []));
  }
  return Promise.all(
    hits.map(async (hit) => {
      const chunks = await files.get(`${hit.store}\u0000${hit.file_id}`);
      const found = chunks.find((chunk) => chunk.text === hit.text) ?? chunks.find((c) => c.text.includes(hit.text));
      return found ? { index: found.index, page: found.page } : null;
    }),
  );
}

/** "page 3, chunk 7 of the file" as shown beside a hit (chunks counted from 1). */
export function placeText(place) {
  if (!place) return "";
  const chunk = `chunk ${place.index + 1}`;
  return place.page ? `page ${place.page}, ${chunk}` : chunk;
}
