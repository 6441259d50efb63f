//! The chat platforms at dakoku's edge. Each module speaks one platform's protocol: it checks
//! and decodes callbacks into the platform-neutral events of `dakoku_service::chat`, and sends
//! the replies the core queued. Nothing here decides attendance; the core does.

pub mod client;
pub mod dingtalk;
pub mod error;
mod inbound;
pub mod lineworks;
pub mod msgcrypt;
pub mod pace;
pub mod records;
pub mod render;
pub mod sender;
pub mod settings;
pub mod tokens;
pub mod wecom;
pub mod xml;

use axum::routing::{get, post};
use axum::Router;
use dakoku_domain::Platform;
use dakoku_service::Service;
use dakoku_worker::Worker;
use sender::MessageSender;
use std::sync::Arc;

/// The adapters of one process: their callback routes and their job handlers.
#[derive(Clone)]
pub struct Platforms {
    service: Service,
    pub lineworks: Arc<lineworks::LineWorks>,
    pub wecom: Arc<wecom::WeCom>,
    pub dingtalk: Arc<dingtalk::DingTalk>,
}

impl Platforms {
    /// The adapters, registered with the service as its platform ports.
    pub fn new(service: Service) -> Self {
        let lineworks = Arc::new(lineworks::LineWorks::new());
        service.register_port(Arc::new(lineworks::port::LineWorksPort(lineworks.clone())));
        let wecom = Arc::new(wecom::WeCom::new());
        service.register_port(Arc::new(wecom::port::WeComPort(wecom.clone())));
        let dingtalk = Arc::new(dingtalk::DingTalk::new());
        service.register_port(Arc::new(dingtalk::port::DingTalkPort(dingtalk.clone())));
        Self { service, lineworks, wecom, dingtalk }
    }

    /// The `/hooks/...` routes.
    pub fn hooks(&self) -> Router {
        Router::new()
            .route("/hooks/lineworks/{token}", post(lineworks::hook::callback))
            .route("/hooks/wecom/{token}", get(wecom::hook::verify_url).post(wecom::hook::receive))
            .route("/hooks/dingtalk/{token}", post(dingtalk::hook::receive))
            .with_state(self.service.clone())
    }

    /// Registers the senders on a worker.
    pub fn install(&self, worker: &mut Worker) {
        let service = self.service.clone();
        worker.register(Arc::new(MessageSender::new(Platform::LineWorks, service.clone(), self.lineworks.clone())));
        worker.register(Arc::new(MessageSender::new(Platform::WeCom, service.clone(), self.wecom.clone())));
        worker.register(Arc::new(records::PullJob::new(service.clone(), self.wecom.clone())));
        worker.register(Arc::new(records::PushJob::new(service.clone(), self.wecom.clone())));
        worker.register(Arc::new(MessageSender::new(Platform::DingTalk, service.clone(), self.dingtalk.clone())));
        worker.register(Arc::new(records::PullJob::new(service.clone(), self.dingtalk.clone())));
        worker.register(Arc::new(records::PushJob::new(service, self.dingtalk.clone())));
        worker.register(Arc::new(lineworks::richmenu::SyncJob::new(self.service.clone(), self.lineworks.clone())));
    }
}
