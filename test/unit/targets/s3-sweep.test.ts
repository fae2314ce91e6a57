import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { sweepUploads } from "../../../src/targets/s3/sweep.ts";

// Issue 11: unfinished multipart uploads of killed runs are aborted by the next backup of their
// project once nothing has happened to them since the cutoff; live or foreign ones are left alone.

const before = new Date("2026-11-28T12:00:00Z");
const old = new Date("2026-11-27T00:00:00Z");
const recent = new Date("2026-11-29T11:00:00Z");
const scope = { Bucket: "b", base: "base/", display: "s3://b/base" };
const signal = new AbortController().signal;

interface Upload { Key: string; UploadId: string; Initiated?: Date; parts?: Date[] }

/** A store holding `uploads`, listing them `pageSize` at a time; records what is sent. */
function fakeStore(uploads: Upload[], pageSize = 1000, fail?: string) {
  const sent: string[] = [];
  const client = {
    async send(cmd: unknown) {
      if (cmd instanceof ListMultipartUploadsCommand) {
        if (fail) throw Object.assign(new Error(fail), { name: "AccessDenied" });
        const { KeyMarker } = cmd.input;
        const start = KeyMarker ? uploads.findIndex((u) => u.Key === KeyMarker) + 1 : 0;
        const page = uploads.slice(start, start + pageSize);
        const truncated = start + pageSize < uploads.length;
        sent.push(`list ${KeyMarker ?? "-"} prefix=${cmd.input.Prefix}`);
        return { Uploads: page, IsTruncated: truncated, ...(truncated ? { NextKeyMarker: page.at(-1)!.Key, NextUploadIdMarker: page.at(-1)!.UploadId } : {}) };
      }
      if (cmd instanceof ListPartsCommand) {
        const u = uploads.find((x) => x.UploadId === cmd.input.UploadId)!;
        return { Parts: (u.parts ?? []).map((LastModified, i) => ({ PartNumber: i + 1, LastModified })), IsTruncated: false };
      }
      if (cmd instanceof AbortMultipartUploadCommand) {
        sent.push(`abort ${cmd.input.Key} ${cmd.input.UploadId}`);
        return {};
      }
      throw new Error(`unexpected ${String(cmd)}`);
    },
  };
  return { client: client as never, sent };
}

describe("S3 sweep of unfinished multipart uploads", () => {
  it("aborts the project's uploads begun before the cutoff with no part since; keeps live, young and foreign ones", async () => {
    const { client, sent } = fakeStore([
      { Key: "base/shop/s1/db.sql.zst", UploadId: "dead", Initiated: old, parts: [old] },
      { Key: "base/shop/s1/files.tar.zst", UploadId: "noparts", Initiated: old },
      { Key: "base/shop/s2/db.sql.zst", UploadId: "long-running", Initiated: old, parts: [old, recent] },
      { Key: "base/shop/s3/db.sql.zst", UploadId: "young", Initiated: recent },
      { Key: "base/shop/s4/db.sql.zst", UploadId: "unknown-age" },
      { Key: "base/wiki/s1/db.sql.zst", UploadId: "other-project", Initiated: old },
    ], 2);
    const removed = await sweepUploads(client, scope, "shop/", before, signal);
    expect(removed).toEqual(["shop/s1/db.sql.zst (upload dead)", "shop/s1/files.tar.zst (upload noparts)"]);
    expect(sent.filter((s) => s.startsWith("abort"))).toEqual(["abort base/shop/s1/db.sql.zst dead", "abort base/shop/s1/files.tar.zst noparts"]);
    expect(sent.filter((s) => s.startsWith("list"))).toEqual([
      "list - prefix=base/shop/", "list base/shop/s1/files.tar.zst prefix=base/shop/", "list base/shop/s3/db.sql.zst prefix=base/shop/",
    ]);
  });

  it("a store error is a TargetError naming the target", async () => {
    const { client } = fakeStore([], 1000, "no ListBucketMultipartUploads permission");
    await expect(sweepUploads(client, scope, "shop/", before, signal)).rejects.toMatchObject({
      name: "TargetError", message: "s3://b/base: cannot list the multipart uploads under shop/: AccessDenied: no ListBucketMultipartUploads permission",
    });
  });
});
