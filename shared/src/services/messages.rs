//! What users receive, in the configured language. The code or link is always in the body.

use super::codes::Purpose;
use crate::{
    config::Lang,
    domain::Code,
    sender::{Channel, Message},
};

pub(crate) fn code(
    lang: Lang,
    purpose: Purpose,
    channel: Channel,
    to: &str,
    code: &Code,
) -> Message {
    let minutes = purpose.ttl() / 60;
    let c = code.as_str();
    let (subject, body) = match lang {
        Lang::Zh => {
            let what = match purpose {
                Purpose::Register => "注册",
                Purpose::Login => "登录",
                Purpose::ResetPassword => "重置密码",
                Purpose::SecondFactor => "登录确认",
                Purpose::AnyEmail => "邮箱",
            };
            (
                format!("您的{what}验证码"),
                format!("您的{what}验证码是 {c}，{minutes} 分钟内有效。如非本人操作，请忽略。"),
            )
        }
        Lang::En => {
            let what = match purpose {
                Purpose::Register => "sign-up",
                Purpose::Login => "sign-in",
                Purpose::ResetPassword => "password reset",
                Purpose::SecondFactor => "sign-in confirmation",
                Purpose::AnyEmail => "email verification",
            };
            (
                format!("Your {what} code"),
                format!("Your {what} code is {c}. It is valid for {minutes} minutes. If this was not you, ignore this message."),
            )
        }
    };
    Message {
        channel,
        to: to.to_string(),
        subject,
        body,
    }
}

pub(crate) fn reset_link(lang: Lang, to: &str, link: &str, token: &str) -> Message {
    let hours = super::reset::RESET_TTL / 3600;
    let (subject, body) = match lang {
        Lang::Zh => (
            "重置您的登录凭证".to_string(),
            format!("请打开以下链接重置密码（{hours} 小时内有效）：\n{link}\n重置码：{token}\n如非本人操作，请忽略。"),
        ),
        Lang::En => (
            "Reset your password".to_string(),
            format!("Open this link to reset your password (valid for {hours} hours):\n{link}\nReset code: {token}\nIf this was not you, ignore this message."),
        ),
    };
    Message {
        channel: Channel::Email,
        to: to.to_string(),
        subject,
        body,
    }
}
