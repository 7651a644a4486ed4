import {
  BatchCheckLayerAvailabilityCommand,
  CompleteLayerUploadCommand,
  InitiateLayerUploadCommand,
  PutImageCommand,
  UploadLayerPartCommand,
  type ECRClient,
  type PutImageCommandOutput,
} from '@aws-sdk/client-ecr';
import type { BuiltImage } from './images.ts';

export interface PushOptions {
  tag?: string;
  registryId?: string;
  /** Bytes per UploadLayerPart call; default: the whole blob in one part. */
  partSize?: number;
}

/**
 * Pushes a built image through the API the way `docker push` does: every blob not already in the
 * repository via InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload, children of an index
 * first (untagged), then PutImage with the exact manifest. Returns the PutImage output.
 */
export async function pushImage(
  client: ECRClient,
  repositoryName: string,
  image: BuiltImage,
  options: PushOptions = {},
): Promise<PutImageCommandOutput> {
  const registry = options.registryId ? { registryId: options.registryId } : {};
  for (const child of image.children) {
    await pushImage(client, repositoryName, child, {
      ...registry,
      ...(options.partSize ? { partSize: options.partSize } : {}),
    }).catch((error: unknown) => {
      if ((error as Error).name !== 'ImageAlreadyExistsException') throw error;
    });
  }
  if (image.blobs.length > 0) {
    const check = await client.send(
      new BatchCheckLayerAvailabilityCommand({
        ...registry,
        repositoryName,
        layerDigests: image.blobs.map((b) => b.digest),
      }),
    );
    const present = new Set(
      (check.layers ?? []).filter((l) => l.layerAvailability === 'AVAILABLE').map((l) => l.layerDigest),
    );
    for (const blob of image.blobs) {
      if (present.has(blob.digest)) continue;
      const bytes = blob.content();
      const { uploadId } = await client.send(new InitiateLayerUploadCommand({ ...registry, repositoryName }));
      const partSize = options.partSize ?? bytes.length;
      for (let first = 0; first < bytes.length; first += partSize) {
        const part = bytes.subarray(first, Math.min(bytes.length, first + partSize));
        await client.send(
          new UploadLayerPartCommand({
            ...registry,
            repositoryName,
            uploadId,
            partFirstByte: first,
            partLastByte: first + part.length - 1,
            layerPartBlob: part,
          }),
        );
      }
      await client.send(
        new CompleteLayerUploadCommand({
          ...registry,
          repositoryName,
          uploadId,
          layerDigests: [blob.digest],
        }),
      );
    }
  }
  return client.send(
    new PutImageCommand({
      ...registry,
      repositoryName,
      imageManifest: image.manifest,
      imageManifestMediaType: image.mediaType,
      imageDigest: image.digest,
      ...(options.tag !== undefined ? { imageTag: options.tag } : {}),
    }),
  );
}
