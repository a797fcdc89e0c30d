"""posecoach inference: pose estimation, exercise analyzers and Ray Serve deployments."""
