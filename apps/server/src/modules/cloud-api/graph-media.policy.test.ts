import { describe, expect, it } from 'vitest';
import { cloudKindOf, cloudMediaProblem, cloudType } from './graph-media.policy.js';

describe('the Cloud API media rules', () => {
  it('name the kind of message a type goes in', () => {
    expect(cloudKindOf('image/png')).toBe('image');
    expect(cloudKindOf('image/webp')).toBe('sticker');
    expect(cloudKindOf('audio/ogg')).toBe('audio');
    expect(cloudKindOf('video/3gpp')).toBe('video');
    expect(cloudKindOf('application/pdf')).toBe('document');
    expect(cloudKindOf('image/gif')).toBeUndefined();
    expect(cloudKindOf('video/webm')).toBeUndefined();
  });

  it('read declared types and their other names', () => {
    expect(cloudType('image/jpg')).toBe('image/jpeg');
    expect(cloudType('audio/ogg; codecs=opus')).toBe('audio/ogg');
    expect(cloudType('video/3gp')).toBe('video/3gpp');
    expect(cloudType('image/gif')).toBeUndefined();
  });

  it('limit each kind as Meta does', () => {
    const MiB = 1024 * 1024;
    expect(cloudMediaProblem('image', { contentType: 'image/png', size: 5 * MiB })).toBeUndefined();
    expect(cloudMediaProblem('image', { contentType: 'image/png', size: 5 * MiB + 1 })).toContain('at most');
    expect(cloudMediaProblem('image', { contentType: 'image/webp', size: 10 })).toContain('must be');
    expect(cloudMediaProblem('video', { contentType: 'video/mp4', size: 16 * MiB + 1 })).toContain('at most');
    expect(
      cloudMediaProblem('document', { contentType: 'application/pdf', size: 100 * MiB }),
    ).toBeUndefined();
    expect(
      cloudMediaProblem('sticker', { contentType: 'image/webp', size: 100 * 1024 + 1, animated: false }),
    ).toContain('static sticker');
    expect(
      cloudMediaProblem('sticker', { contentType: 'image/webp', size: 400 * 1024, animated: true }),
    ).toBeUndefined();
    expect(cloudMediaProblem('sticker', { contentType: 'image/webp', size: 500 * 1024 + 1 })).toContain(
      'at most',
    );
  });
});
