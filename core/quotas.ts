/**
 * ECR's default quotas the product sizes itself by, each in one place. A deployment can raise them
 * through the construct's props; these are what AWS gives an account that asked for nothing.
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 */

/** `PutImage` calls per second per Region (an adjustable rate quota). */
export const ECR_DEFAULT_PUT_IMAGE_PER_SECOND = 10;
